#include "panels/serve/ServePanel.h"

#include "common/ColumnFit.h"
#include "common/Icons.h"
#include "common/Widgets.h"

#include "common/Format.h"
#include "panels/serve/RequestLogModel.h"
#include "panels/serve/ServeExample.h"
#include "panels/serve/ServeTraffic.h"

#include "export/ExportSupport.h"
#include "ServeToken.h"
#include "common/Error.h"
#include "common/ShapeText.h"
#include "registry/Registry.h"

#include <QAction>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTableWidget>
#include <QTemporaryFile>
#include <QThread>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>
#include <optional>

namespace ms::ui {

namespace {

const QString kUsePortLink = QStringLiteral("use-port");

// The example's comment on what the model does to its input (the preprocessing it records).
// The served input as the table shows it: "1×28×28" for floats; "[N, T] int64" for token ids,
// whose sequence may be dynamic.
QString inputText(const ms::ServedModel &model)
{
    if (model.inputShape.empty())
        return ServePanel::tr("unknown");
    if (model.inputDtype == QLatin1String("float32"))
        return shapeText(model.inputShape, ShapeStyle::Window);
    std::vector<qint64> shape{-1};
    shape.insert(shape.end(), model.inputShape.begin(), model.inputShape.end());
    return QStringLiteral("%1 %2").arg(shapeText(shape, ShapeStyle::Batch), model.inputDtype);
}

QString inputNote(const ms::VersionRecord &version)
{
    if (!version.inputs.isEmpty() && version.inputs.first().isInteger())
        return QStringLiteral("it takes token ids (%1): send the ids its tokenizer gives")
            .arg(version.inputs.first().dtype);
    const ms::exportsupport::InputContract contract = ms::exportsupport::inputContract(version);
    if (!contract.normalisesItself)
        return QStringLiteral("it takes the tensor as it is (imported without --mean/--std): "
                              "send what it was written for");
    if (contract.mean.empty() || contract.mean.size() > 8)
        return QStringLiteral("it normalises its input itself: send floats in [0, 1]");
    QStringList mean, stdev;
    for (double m : contract.mean)
        mean << QString::number(m, 'g', 4);
    for (double s : contract.stdev)
        stdev << QString::number(s, 'g', 4);
    return QStringLiteral("it normalises its input itself (mean %1, std %2): send floats in "
                          "[0, 1]")
        .arg(mean.join(QLatin1Char(',')), stdev.join(QLatin1Char(',')));
}

// The model name of a registry reference: names never hold ':' or '@'.
QString modelNameOf(const QString &ref)
{
    const qsizetype end = ref.indexOf(QRegularExpression(QStringLiteral("[:@]")));
    return end < 0 ? ref : ref.left(end);
}

QTableWidgetItem *readOnlyItem(const QString &text)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    return item;
}

} // namespace

ServePanel::ServePanel(QString workspace, QWidget *parent)
    : Panel(parent)
    , m_workspace(std::move(workspace))
{
    createActions();

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(buildSetupSide());
    m_splitter->addWidget(buildMonitorSide());
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({420, 860});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_splitter);

    setStatus(tr("Not serving. Add models, then Start (Ctrl+Return)."), Tone::Info);
    refreshModels();
    updateModelsTable();
    updateExample();
    updateControls();
}

ServePanel::~ServePanel()
{
    stop();
    for (const QString &file : std::as_const(m_exampleFiles))
        QFile::remove(file);
}

QIcon ServePanel::icon() const
{
    return serveIcon(palette().color(QPalette::WindowText));
}

QList<QAction *> ServePanel::jobActions() const
{
    return {m_startAction, m_stopAction};
}

void ServePanel::createActions()
{
    m_startAction = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this);
    m_startAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return),
                                 QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    m_startAction->setStatusTip(tr("Listen on the address and serve the models on the left"));
    connect(m_startAction, &QAction::triggered, this, [this] { start(); });

    m_stopAction = new QAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_stopAction->setStatusTip(tr("Answer the requests in flight, then stop listening"));
    connect(m_stopAction, &QAction::triggered, this, [this] { stop(); });

    addActions({m_startAction, m_stopAction});
}

QWidget *ServePanel::buildSetupSide()
{
    auto *side = new QWidget(this);

    // --- models ---
    auto *modelsBox = new QGroupBox(tr("Models"), side);
    m_modelCombo = new QComboBox(modelsBox);
    m_modelCombo->setToolTip(tr("A model name serves its production version, else the newest"));
    m_modelCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_modelCombo->setMinimumContentsLength(16);
    auto *addButton = new QPushButton(tr("Add"), modelsBox);
    addButton->setToolTip(tr("Serve this model too (at once while listening)"));
    m_addButton = addButton;
    connect(addButton, &QPushButton::clicked, this, [this] {
        const QString ref = m_modelCombo->currentData().toString();
        if (!ref.isEmpty())
            addModel(ref);
    });
    auto *pickRow = new QHBoxLayout;
    pickRow->addWidget(m_modelCombo, 1);
    pickRow->addWidget(addButton);

    m_modelsTable = new QTableWidget(0, 4, modelsBox);
    m_modelsTable->setHorizontalHeaderLabels({tr("Name"), tr("Version"), tr("Input"),
                                              tr("Loaded")});
    m_modelsTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_modelsTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_modelsTable->verticalHeader()->setVisible(false);
    m_modelsTable->horizontalHeader()->setStretchLastSection(true);
    // Columns fit their text; a long name, then its reference, give way (elided, whole in the
    // tooltip) before the input shape is cut off.
    m_modelsTable->setWordWrap(false);
    auto *columns = new ColumnFitter(m_modelsTable);
    columns->setElidable(0, Qt::ElideRight, 0);
    columns->setElidable(1, Qt::ElideMiddle, 1);
    m_modelsTable->setMinimumHeight(110);
    connect(m_modelsTable, &QTableWidget::currentCellChanged, this,
            [this] { updateExample(); });
    auto *removeButton = new QPushButton(tr("Remove"), modelsBox);
    removeButton->setToolTip(tr("Stop serving the selected model"));
    m_removeButton = removeButton;
    connect(removeButton, &QPushButton::clicked, this, [this] { removeSelectedModel(); });
    auto *removeRow = new QHBoxLayout;
    removeRow->addStretch(1);
    removeRow->addWidget(removeButton);

    auto *modelsLayout = new QVBoxLayout(modelsBox);
    modelsLayout->addLayout(pickRow);
    modelsLayout->addWidget(m_modelsTable, 1);
    modelsLayout->addLayout(removeRow);

    // --- server settings ---
    const ms::ServeOptions defaults;
    auto *serverBox = new QGroupBox(tr("Server"), side);
    m_host = new QLineEdit(defaults.host, serverBox);
    m_host->setToolTip(tr("127.0.0.1 keeps the endpoint on this machine"));
    m_allowRemote = new QCheckBox(tr("Allow a non-loopback address"), serverBox);
    m_allowRemote->setToolTip(tr("Needed to bind an address other machines can reach"));
    m_port = new QSpinBox(serverBox);
    m_port->setRange(1, 65535);
    m_port->setValue(defaults.port);
    m_maxBatch = new QSpinBox(serverBox);
    m_maxBatch->setRange(1, 4096);
    m_maxBatch->setValue(defaults.maxBatchSize);
    m_maxBatch->setToolTip(tr("Queued requests run together, up to this many"));
    m_maxDelay = new QSpinBox(serverBox);
    m_maxDelay->setRange(0, 1000000);
    m_maxDelay->setSingleStep(500);
    m_maxDelay->setValue(defaults.maxQueueDelay_us);
    m_maxDelay->setSuffix(tr(" µs"));
    m_maxDelay->setToolTip(tr("How long the first request of a batch may wait for company"));
    m_threads = new QSpinBox(serverBox);
    m_threads->setRange(1, qMax(1, QThread::idealThreadCount()));
    m_threads->setValue(defaults.threadsPerModel);
    m_threads->setToolTip(tr("Compute threads of each model's worker"));
    // As the CLI: MODELSTUDIO_TOKEN gives the token when it is set.
    m_token = new QLineEdit(qEnvironmentVariable(ms::serve::kTokenVariable, defaults.token),
                            serverBox);
    m_token->setPlaceholderText(tr("none: no authentication"));
    m_token->setToolTip(tr("Clients send it as \"Authorization: Bearer TOKEN\" (health checks "
                           "need none)"));
    auto *fromFile = new QPushButton(tr("From file…"), serverBox);
    fromFile->setToolTip(tr("Read the token from a file, as serve --token-file does"));
    connect(fromFile, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Token file"));
        if (!path.isEmpty())
            loadTokenFile(path);
    });
    auto *generate = new QPushButton(tr("Generate"), serverBox);
    generate->setToolTip(tr("A random 128-bit token"));
    connect(generate, &QPushButton::clicked, this, [this] {
        QByteArray bytes(16, Qt::Uninitialized);
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()),
                                              bytes.size() / int(sizeof(quint32)));
        m_token->setText(QString::fromLatin1(bytes.toHex()));
    });
    connect(m_token, &QLineEdit::textChanged, this, [this] { updateExample(); });
    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_token, 1);
    tokenRow->addWidget(generate);
    tokenRow->addWidget(fromFile);

    auto *form = new QFormLayout(serverBox);
    form->addRow(tr("Host"), m_host);
    form->addRow(QString(), m_allowRemote);
    form->addRow(tr("Port"), m_port);
    form->addRow(tr("Max batch size"), m_maxBatch);
    form->addRow(tr("Max delay"), m_maxDelay);
    form->addRow(tr("Threads"), m_threads);
    form->addRow(tr("Token"), tokenRow);

    // --- run ---
    m_startButton = buttonFor(m_startAction, side);
    m_stopButton = buttonFor(m_stopAction, side);
    qobject_cast<QPushButton *>(m_startButton)->setDefault(true);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_stopButton);
    buttons->addStretch(1);
    m_status = new StatusLine(side, 3);
    connect(m_status, &QLabel::linkActivated, this, [this](const QString &link) {
        if (link == kUsePortLink && m_suggestedPort != 0) {
            m_port->setValue(m_suggestedPort);
            start();
        }
    });
    auto *runBox = new QGroupBox(tr("Run"), side);
    auto *runLayout = new QVBoxLayout(runBox);
    runLayout->addLayout(buttons);
    runLayout->addWidget(m_status);

    auto *layout = new QVBoxLayout(side);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->addWidget(modelsBox, 1);
    layout->addWidget(serverBox);
    layout->addWidget(runBox);
    side->setMinimumWidth(360);
    return side;
}

QWidget *ServePanel::buildMonitorSide()
{
    m_monitorSplitter = new QSplitter(Qt::Vertical, this);
    m_monitorSplitter->setChildrenCollapsible(false);

    // --- endpoint and example ---
    auto *endpoint = new QWidget(m_monitorSplitter);
    m_urlLabel = new QLabel(endpoint);
    m_urlLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont urlFont = m_urlLabel->font();
    urlFont.setBold(true);
    m_urlLabel->setFont(urlFont);
    auto *copyUrl = new QPushButton(tr("Copy"), endpoint);
    copyUrl->setToolTip(tr("Copy the URL"));
    m_copyUrl = copyUrl;
    connect(copyUrl, &QPushButton::clicked, this, [this] {
        copyToClipboard(url(), tr("URL"));
    });
    auto *urlRow = new QHBoxLayout;
    urlRow->addWidget(sectionTitle(tr("Endpoint"), endpoint));
    urlRow->addWidget(m_urlLabel, 1);
    urlRow->addWidget(copyUrl);

    m_exampleTitle = new QLabel(endpoint);
    m_exampleTitle->setWordWrap(true);   // a long model name must not widen the window
    auto *copyExample = new QPushButton(tr("Copy"), endpoint);
    copyExample->setToolTip(tr("Copy the curl command"));
    m_copyExample = copyExample;
    connect(copyExample, &QPushButton::clicked, this, [this] {
        copyToClipboard(curlText(), tr("curl command"));
    });
    auto *exampleRow = new QHBoxLayout;
    exampleRow->addWidget(m_exampleTitle, 1);
    exampleRow->addWidget(copyExample);
    m_example = new QPlainTextEdit(endpoint);
    m_example->setReadOnly(true);
    // Wrapped: the sample's data is one long line, and a wrapped line can still be read.
    m_example->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_example->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

    auto *endpointLayout = new QVBoxLayout(endpoint);
    endpointLayout->setContentsMargins(0, 0, 0, 4);
    endpointLayout->addLayout(urlRow);
    endpointLayout->addLayout(exampleRow);
    endpointLayout->addWidget(m_example, 1);

    m_traffic = new ServeTraffic(m_monitorSplitter);

    m_monitorSplitter->addWidget(endpoint);
    m_monitorSplitter->addWidget(m_traffic);
    m_monitorSplitter->setStretchFactor(0, 0);
    m_monitorSplitter->setStretchFactor(1, 1);
    m_monitorSplitter->setSizes({200, 560});
    return m_monitorSplitter;
}

void ServePanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    refreshModels();
}

void ServePanel::refreshModels()
{
    const QString current = m_modelCombo->currentData().toString();
    m_modelCombo->clear();
    try {
        const ms::Registry registry(m_workspace);
        for (const ms::ModelRecord &model : registry.models()) {
            m_modelCombo->addItem(model.name, model.name);
            m_modelCombo->setItemData(m_modelCombo->count() - 1,
                                      tr("%1: the production version, else the newest")
                                          .arg(model.name),
                                      Qt::ToolTipRole);
            for (const ms::VersionRecord &version :
                 registry.versions(model.name, ms::Registry::Detail::Listing)) {
                QString text = QStringLiteral("    ") + version.ref();
                if (!version.aliases.isEmpty())
                    text += QStringLiteral("  (%1)").arg(version.aliases.join(
                        QStringLiteral(", ")));
                m_modelCombo->addItem(text, version.ref());
            }
        }
    } catch (const std::exception &e) {
        setStatus(tr("Cannot read the registry: %1").arg(errorMessage(e)),
                  Tone::Error);
    }
    if (m_modelCombo->count() == 0) {
        m_modelCombo->setPlaceholderText(tr("No versions yet: train or import a model"));
        m_modelCombo->setCurrentIndex(-1);
    }
    const int index = m_modelCombo->findData(current);
    if (index >= 0)
        m_modelCombo->setCurrentIndex(index);
    m_addButton->setEnabled(m_modelCombo->count() > 0);
}

bool ServePanel::addModel(const QString &ref)
{
    const QString name = modelNameOf(ref);
    try {
        // Checked now (a quick registry lookup), so a typo shows at once; the model itself
        // loads on a worker thread.
        ms::Registry(m_workspace).resolve(ref);
        if (m_service) {
            m_service->serveAsync(ref);
            setStatus(tr("Loading %1…").arg(ref), Tone::Busy);
        }
    } catch (const std::exception &e) {
        setStatus(tr("Cannot serve %1: %2").arg(ref, errorMessage(e)), Tone::Error);
        return false;
    }
    // One version per name: a newer choice replaces the older one, as the server swaps it.
    m_refs.erase(std::remove_if(m_refs.begin(), m_refs.end(),
                                [&name](const QString &r) { return modelNameOf(r) == name; }),
                 m_refs.end());
    m_refs << ref;
    updateModelsTable();
    updateControls();
    return true;
}

void ServePanel::clearModels()
{
    if (m_service) {
        for (const QString &ref : std::as_const(m_refs))
            m_service->unserve(modelNameOf(ref));
    }
    m_refs.clear();
    updateModelsTable();
    updateControls();
}

void ServePanel::removeSelectedModel()
{
    const int row = m_modelsTable->currentRow();
    if (row < 0)
        return;
    const QString name = m_modelsTable->item(row, 0)->text();
    try {
        if (m_service)
            m_service->unserve(name);
    } catch (const std::exception &e) {
        setStatus(tr("Cannot stop serving %1: %2").arg(name, errorMessage(e)),
                  Tone::Error);
        return;
    }
    m_refs.erase(std::remove_if(m_refs.begin(), m_refs.end(),
                                [&name](const QString &r) { return modelNameOf(r) == name; }),
                 m_refs.end());
    updateModelsTable();
    updateControls();
}

void ServePanel::setPort(quint16 port)
{
    m_port->setValue(port);
}

quint16 ServePanel::port() const
{
    return quint16(m_port->value());
}

bool ServePanel::serveNow(const QString &ref)
{
    if (!addModel(ref))
        return false;
    if (!m_service)
        start();
    return isListening() && !statusIsError();
}

ms::ServeOptions ServePanel::options() const
{
    ms::ServeOptions options;
    options.host = m_host->text().trimmed();
    options.allowNonLoopback = m_allowRemote->isChecked();
    options.port = quint16(m_port->value());
    options.maxBatchSize = m_maxBatch->value();
    options.maxQueueDelay_us = m_maxDelay->value();
    options.threadsPerModel = m_threads->value();
    options.token = m_token->text().trimmed();
    return options;
}

bool ServePanel::loadTokenFile(const QString &path)
{
    try {
        m_token->setText(ms::serve::readTokenFile(path));
    } catch (const ms::Error &e) {
        setStatus(tr("Cannot use the token file: %1").arg(e.message()), Tone::Error);
        return false;
    }
    setStatus(tr("Token read from %1.").arg(QDir::toNativeSeparators(path)), Tone::Info);
    return true;
}

void ServePanel::connectService()
{
    connect(m_service, &ms::InferenceService::requestFinished, m_traffic,
            &ServeTraffic::record);
    connect(m_service, &ms::InferenceService::modelsChanged, this,
            [this] { updateModelsTable(); });
    connect(m_service, &ms::InferenceService::modelServed, this,
            [this] { showServingStatus(); });
    connect(m_service, &ms::InferenceService::serveFailed, this,
            [this](const QString &ref, const QString &message) {
                m_loadFailures << tr("%1: %2").arg(ref, message);
                showServingStatus();
            });
}

void ServePanel::showServingStatus()
{
    if (!m_service)
        return;
    if (!m_loadFailures.isEmpty()) {
        setStatus(tr("Listening on %1, but cannot serve %2")
                      .arg(m_service->url(), m_loadFailures.join(QStringLiteral("; "))),
                  Tone::Error);
    } else if (m_service->loadsInProgress() > 0) {
        setStatus(tr("Listening on %1 · loading %n model(s)…", nullptr,
                     m_service->loadsInProgress())
                      .arg(m_service->url()),
                  Tone::Busy);
    } else {
        setStatus(tr("Listening on %1 · serving %2")
                      .arg(m_service->url(), m_refs.isEmpty() ? tr("no model yet")
                                                              : m_refs.join(QStringLiteral(", "))),
                  Tone::Ok);
    }
}

void ServePanel::start()
{
    if (m_service)
        return;
    if (m_refs.isEmpty() && !m_modelCombo->currentData().toString().isEmpty()
        && !addModel(m_modelCombo->currentData().toString()))
        return;

    const ms::ServeOptions serveOptions = options();
    if (!serveOptions.token.isEmpty()) {
        const QString problem = ms::serve::tokenProblem(serveOptions.token, tr("The token"));
        if (!problem.isEmpty()) {
            setStatus(problem, Tone::Error);
            return;
        }
    }
    auto *service = new ms::InferenceService(m_workspace, serveOptions, this);
    try {
        service->listen();
    } catch (const std::exception &e) {
        delete service;
        const QString message = errorMessage(e);
        quint16 freePort = 0;
        try {
            freePort = ms::InferenceService::nextFreePort(serveOptions.host, serveOptions.port);
        } catch (const std::exception &) {
            freePort = 0;   // the address itself is the problem; the message says so
        }
        // The service's message speaks to the command line ("pass --port N"); the panel
        // offers the free port as a link instead and keeps the full text in the tooltip.
        m_status->setToolTip(message);
        if (freePort != 0 && freePort != serveOptions.port)
            setStatus(tr("Cannot listen: port %1 on %2 is in use. Port %3 is free.")
                          .arg(QString::number(serveOptions.port), serveOptions.host,
                               QString::number(freePort)),
                      Tone::Error, freePort);
        else
            setStatus(tr("Cannot listen: %1").arg(message), Tone::Error);
        return;
    }
    m_service = service;
    m_status->setToolTip(QString());
    m_loadFailures.clear();
    connectService();
    m_traffic->start();
    // Loaded and warmed up on worker threads; each is installed when it is ready.
    for (const QString &ref : std::as_const(m_refs))
        m_service->serveAsync(ref);
    showServingStatus();
    updateModelsTable();
    updateControls();
}

void ServePanel::stop()
{
    if (!m_service)
        return;
    ms::InferenceService *service = m_service;
    m_service = nullptr;
    service->stop();   // answers the requests in flight; their records still reach the log
    disconnect(service, nullptr, this, nullptr);
    disconnect(service, nullptr, m_traffic, nullptr);
    delete service;
    m_traffic->stop();
    setStatus(tr("Stopped. Requests logged: %1.").arg(m_traffic->requestLog()->rowCount()),
              Tone::Info);
    updateModelsTable();
    updateControls();
}

bool ServePanel::isListening() const
{
    return m_service && m_service->isListening();
}

QString ServePanel::switchWarning() const
{
    // Rebuilding the panels stops a running server: say so rather than let it vanish.
    return isListening() ? tr("The Serve panel is serving models from this workspace. "
                              "Switching stops the server.")
                         : QString();
}

QTableView *ServePanel::requestLogView() const
{
    return m_traffic->requestLogView();
}

RequestLogModel *ServePanel::requestLog() const
{
    return m_traffic->requestLog();
}

MetricPlot *ServePanel::requestRatePlot() const
{
    return m_traffic->requestRatePlot();
}

MetricPlot *ServePanel::latencyPlot() const
{
    return m_traffic->latencyPlot();
}

QString ServePanel::url() const
{
    return m_service ? m_service->url() : QString();
}

void ServePanel::updateModelsTable()
{
    const QString selected = m_modelsTable->currentRow() >= 0
                                 ? m_modelsTable->item(m_modelsTable->currentRow(), 0)->text()
                                 : QString();
    const QSignalBlocker blocker(m_modelsTable);
    m_modelsTable->setRowCount(0);
    if (m_service) {
        for (const ms::ServedModel &model : m_service->models()) {
            const int row = m_modelsTable->rowCount();
            m_modelsTable->insertRow(row);
            m_modelsTable->setItem(row, 0, readOnlyItem(model.name));
            m_modelsTable->setItem(row, 1, readOnlyItem(model.versionRef));
            m_modelsTable->setItem(
                row, 2,
                readOnlyItem(inputText(model)));
            m_modelsTable->setItem(row, 3, readOnlyItem(
                model.loaded.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
        }
    } else {
        for (const QString &ref : std::as_const(m_refs)) {
            const int row = m_modelsTable->rowCount();
            m_modelsTable->insertRow(row);
            m_modelsTable->setItem(row, 0, readOnlyItem(modelNameOf(ref)));
            m_modelsTable->setItem(row, 1, readOnlyItem(ref));
            m_modelsTable->setItem(row, 2, readOnlyItem(QStringLiteral("—")));
            m_modelsTable->setItem(row, 3, readOnlyItem(tr("on Start")));
        }
    }
    int row = 0;
    for (int r = 0; r < m_modelsTable->rowCount(); ++r) {
        if (m_modelsTable->item(r, 0)->text() == selected)
            row = r;
    }
    if (m_modelsTable->rowCount() > 0)
        m_modelsTable->setCurrentCell(row, 0);
    updateExample();
}

void ServePanel::updateExample()
{
    if (!m_service) {
        m_urlLabel->setText(tr("not serving"));
        m_exampleTitle->setText(tr("Example request"));
        m_example->setPlainText(QString());
        m_example->setPlaceholderText(
            tr("Start the server: a ready-made curl request for the selected model shows "
               "here."));
        m_copyExample->setEnabled(false);
        m_copyUrl->setEnabled(false);
        return;
    }
    m_urlLabel->setText(m_service->url());
    m_copyUrl->setEnabled(true);
    const int row = m_modelsTable->currentRow();
    const QString name = row >= 0 ? m_modelsTable->item(row, 0)->text() : QString();
    std::optional<ms::ServedModel> model;
    for (const ms::ServedModel &served : m_service->models()) {
        if (served.name == name)
            model = served;
    }
    if (!model) {
        m_exampleTitle->setText(tr("Example request"));
        m_example->setPlainText(QString());
        m_example->setPlaceholderText(tr("Add a model to get a ready-made request for it."));
        m_copyExample->setEnabled(false);
        return;
    }
    CurlRequest request;
    request.url = m_service->url();
    request.modelName = model->name;
    request.token = m_token->text().trimmed();
    try {
        const ms::VersionRecord version = ms::Registry(m_workspace).resolve(model->versionRef);
        if (!version.inputs.isEmpty() && !version.inputs.first().name.isEmpty())
            request.inputName = version.inputs.first().name;
        request.inputNote = inputNote(version);
    } catch (const std::exception &) {
        // The default input name; the metadata route tells a client the real one.
    }
    m_exampleTitle->setText(tr("Example: an infer request to %1 (%2)")
                                .arg(model->name, model->versionRef));
    // A model that carries its tokenizer reads text: the example sends some, not token ids.
    const ServeSample sample = model->tokenizer.isEmpty()
                                   ? sampleFor(model->exampleShape, model->inputDtype)
                                   : textSampleFor(model->task, model->tokenizer);
    if (!sample.texts.isEmpty())
        request.inputNote.clear();   // "send the ids its tokenizer gives": not for text
    const QString bodyFile = qint64(sample.values.size()) > kInlineSampleValues
                                 ? exampleBodyFile(model->versionRef, request.inputName, sample)
                                 : QString();
    m_example->setPlainText(curlCommand(request, sample, bodyFile));
    m_copyExample->setEnabled(true);
}

QString ServePanel::exampleBodyFile(const QString &versionRef, const QString &inputName,
                                    const ServeSample &sample)
{
    const QString key = versionRef + QLatin1Char('\n') + inputName;
    const QString known = m_exampleFiles.value(key);
    if (!known.isEmpty() && QFile::exists(known))
        return known;
    QTemporaryFile file(QDir::temp().filePath(QStringLiteral("modelstudio-request-XXXXXX.json")));
    file.setAutoRemove(false);
    const QByteArray body = requestBody(inputName, sample);
    if (!file.open() || file.write(body) != body.size() || !file.flush())
        return QString();   // inlined instead
    m_exampleFiles.insert(key, file.fileName());
    return file.fileName();
}

void ServePanel::updateControls()
{
    const bool running = m_service != nullptr;
    m_startAction->setEnabled(!running);
    m_stopAction->setEnabled(running);
    for (QWidget *widget : std::initializer_list<QWidget *>{
             m_host, m_allowRemote, m_port, m_maxBatch, m_maxDelay, m_threads, m_token})
        widget->setEnabled(!running);
    m_removeButton->setEnabled(!m_refs.isEmpty() || m_modelsTable->rowCount() > 0);
}

void ServePanel::setStatus(const QString &text, Tone tone, quint16 usePort)
{
    m_suggestedPort = usePort;
    if (usePort == 0)
        m_status->setStatus(text, tone);
    else
        m_status->setStatus(text, tone, kUsePortLink, tr("Use port %1 and start").arg(usePort));
}

QString ServePanel::curlText() const
{
    return m_example->toPlainText();
}

void ServePanel::copyToClipboard(const QString &text, const QString &what)
{
    if (text.isEmpty())
        return;
    QGuiApplication::clipboard()->setText(text);
    m_status->setToolTip(tr("%1 copied").arg(what));
}

void ServePanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("monitorSplitter"), m_monitorSplitter->saveState());
    settings.setValue(QStringLiteral("trafficSplitter"), m_traffic->splitter()->saveState());
    settings.setValue(QStringLiteral("host"), m_host->text());
    settings.setValue(QStringLiteral("allowNonLoopback"), m_allowRemote->isChecked());
    settings.setValue(QStringLiteral("port"), m_port->value());
    settings.setValue(QStringLiteral("maxBatchSize"), m_maxBatch->value());
    settings.setValue(QStringLiteral("maxQueueDelay_us"), m_maxDelay->value());
    settings.setValue(QStringLiteral("threads"), m_threads->value());
    settings.setValue(QStringLiteral("models"), m_refs);
    // The token is a secret: it is not written to the settings file.
}

void ServePanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_monitorSplitter->restoreState(
        settings.value(QStringLiteral("monitorSplitter")).toByteArray());
    m_traffic->splitter()->restoreState(
        settings.value(QStringLiteral("trafficSplitter")).toByteArray());
    m_host->setText(settings.value(QStringLiteral("host"), m_host->text()).toString());
    m_allowRemote->setChecked(settings.value(QStringLiteral("allowNonLoopback"), false).toBool());
    m_port->setValue(settings.value(QStringLiteral("port"), m_port->value()).toInt());
    m_maxBatch->setValue(settings.value(QStringLiteral("maxBatchSize"),
                                        m_maxBatch->value()).toInt());
    m_maxDelay->setValue(settings.value(QStringLiteral("maxQueueDelay_us"),
                                        m_maxDelay->value()).toInt());
    m_threads->setValue(settings.value(QStringLiteral("threads"), m_threads->value()).toInt());
    if (m_service)
        return;
    // Versions removed since stay out; the rest come back, to be served on Start.
    m_refs.clear();
    const QStringList refs = settings.value(QStringLiteral("models")).toStringList();
    for (const QString &ref : refs) {
        try {
            ms::Registry(m_workspace).resolve(ref);
            m_refs << ref;
        } catch (const std::exception &) {
        }
    }
    updateModelsTable();
    updateControls();
}

} // namespace ms::ui
