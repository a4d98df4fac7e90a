#include "panels/versions/VersionDetailPane.h"

#include "common/Format.h"
#include "plots/MetricPlot.h"
#include "panels/versions/VersionLayersView.h"
#include "panels/versions/VersionTableModel.h"

#include "common/Error.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QTableWidget>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextEdit>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

namespace ms::ui {

namespace {

const QString kCurve = QStringLiteral("curve");
// Per-epoch series have a few points: dots make each one visible.
constexpr int kMarkerPointLimit = 60;

QString signatureText(const ms::Signature &signature)
{
    return signature.isEmpty() ? QStringLiteral("—") : formatSignature(signature);
}

QString jsonText(const QJsonValue &value)
{
    if (value.isDouble()) {
        // Counts (parameters, non-zero weights) read better whole than as 4.735e+04.
        const double v = value.toDouble();
        if (std::isfinite(v) && std::abs(v) >= 1000 && std::abs(v) < 1e15 && v == std::floor(v))
            return QLocale(QLocale::English).toString(qint64(v));
        return formatValue(v);
    }
    if (value.isString())
        return value.toString();
    if (value.isBool())
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (value.isNull() || value.isUndefined())
        return QStringLiteral("—");
    const QJsonDocument doc = value.isArray() ? QJsonDocument(value.toArray())
                                              : QJsonDocument(value.toObject());
    return QString::fromUtf8(doc.toJson(QJsonDocument::Compact));
}

QString recordText(const ms::VersionRecord &v)
{
    QString text;
    auto line = [&text](const QString &key, const QString &value) {
        text += (key + QLatin1Char(':')).leftJustified(9) + QLatin1Char(' ') + value
                + QLatin1Char('\n');
    };
    line(QStringLiteral("Ref"), v.ref());
    line(QStringLiteral("Kind"), ms::versionKindName(v.kind));
    line(QStringLiteral("Created"), v.created.toLocalTime().toString(Qt::ISODate));
    line(QStringLiteral("Params"), formatCount(v.parameterCount));
    line(QStringLiteral("Size"), formatSize(v.sizeBytes));
    line(QStringLiteral("SHA-256"), v.sha256);
    line(QStringLiteral("Inputs"), signatureText(v.inputs));
    line(QStringLiteral("Outputs"), signatureText(v.outputs));
    // The first few: the pane stays narrow; all of them are in the signature's output.
    constexpr int kShownClasses = 4;
    QString classes = v.classNames.isEmpty()
                          ? QStringLiteral("—")
                          : QStringList(v.classNames.mid(0, kShownClasses))
                                .join(QStringLiteral(", "));
    if (v.classNames.size() > kShownClasses)
        classes += QStringLiteral(", … (%1)").arg(v.classNames.size());
    line(QStringLiteral("Classes"), classes);
    line(QStringLiteral("Aliases"), v.aliases.isEmpty() ? QStringLiteral("—")
                                                        : v.aliases.join(QStringLiteral(", ")));
    QStringList tags;
    for (auto it = v.tags.cbegin(); it != v.tags.cend(); ++it)
        tags << it.key() + QLatin1Char('=') + it.value();
    line(QStringLiteral("Tags"), tags.isEmpty() ? QStringLiteral("—")
                                                : tags.join(QStringLiteral(", ")));
    if (v.runId != 0)
        line(QStringLiteral("Run"), QString::number(v.runId));
    text += QStringLiteral("\nMetrics:\n");
    if (v.metrics.isEmpty())
        text += QStringLiteral("  —\n");
    for (auto it = v.metrics.constBegin(); it != v.metrics.constEnd(); ++it)
        text += QStringLiteral("  ") + (it.key() + QLatin1Char(':')).leftJustified(16)
                + QLatin1Char(' ') + jsonText(it.value()) + QLatin1Char('\n');
    text += QStringLiteral("\nNotes:\n%1\n").arg(v.notes.isEmpty() ? QStringLiteral("  —")
                                                                    : v.notes);
    text += QStringLiteral("\nRecipe:\n");
    text += v.recipe.isEmpty()
                ? QStringLiteral("  — (imported)\n")
                : QString::fromUtf8(QJsonDocument(v.recipe).toJson(QJsonDocument::Indented));
    return text;
}

// Shows `text` wrapped to the view's width, each wrapped line of a record line hanging under
// the start of its value ("Inputs:   input float32 [-1×3×224×224]" continues under "input"),
// so a long shape or hash is never cut off at the pane's edge and the keys still read as a
// column. An indented line (metrics, the recipe's JSON) hangs a little deeper than its own
// indent instead: under a deep JSON key there would be no room left. The font is fixed-width,
// so positions are character counts.
void setRecordText(QTextEdit *view, const QString &text)
{
    static const QRegularExpression valueStart(QStringLiteral("^(\\S+:\\s+)"));
    static const QRegularExpression leading(QStringLiteral("^(\\s+)"));
    constexpr int kNestedHang = 4;
    view->setPlainText(text);
    const qreal charWidth = QFontMetricsF(view->document()->defaultFont())
                                .horizontalAdvance(QLatin1Char('x'));
    QTextCursor cursor(view->document());
    cursor.beginEditBlock();
    for (QTextBlock block = view->document()->begin(); block.isValid(); block = block.next()) {
        int hang = 0;
        if (const QRegularExpressionMatch key = valueStart.match(block.text()); key.hasMatch())
            hang = int(key.capturedLength(1));
        else if (const QRegularExpressionMatch lead = leading.match(block.text()); lead.hasMatch())
            hang = int(lead.capturedLength(1)) + kNestedHang;
        if (hang == 0)
            continue;
        QTextBlockFormat format = block.blockFormat();
        const qreal indent = charWidth * qreal(hang);
        format.setLeftMargin(indent);
        format.setTextIndent(-indent);
        cursor.setPosition(block.position());
        cursor.setBlockFormat(format);
    }
    cursor.endEditBlock();
}

} // namespace

VersionDetailPane::VersionDetailPane(QString workspace, QWidget *parent)
    : QTabWidget(parent)
    , m_workspace(std::move(workspace))
{
    // A QTextEdit, not a QPlainTextEdit: only its layout honours the hanging indents that keep
    // wrapped values under their column (setRecordText).
    m_record = new QTextEdit(this);
    m_record->setReadOnly(true);
    m_record->setAcceptRichText(false);
    m_record->setLineWrapMode(QTextEdit::WidgetWidth);
    m_record->setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    m_record->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_record->setPlaceholderText(tr("Select a version to see its record."));
    addTab(m_record, tr("Record"));
    m_layers = new VersionLayersView(m_workspace, this);
    m_layersTab = addTab(m_layers, tr("Layers"));
    m_curvesTab = addTab(buildCurvesTab(), tr("Curves"));
    m_benchmarksTab = addTab(buildBenchmarksTab(), tr("Benchmarks"));
    addTab(buildNotesTab(), tr("Notes"));
    // Curves are read only when looked at: arrowing through 10,000 rows must not load a
    // 100,000-point curve per row.
    connect(this, &QTabWidget::currentChanged, this, [this](int index) {
        if (index == m_curvesTab && !m_curveLoaded)
            loadCurve();
        if (index == m_layersTab)
            m_layers->load();   // once per version, on a worker thread
    });
}

QWidget *VersionDetailPane::buildCurvesTab()
{
    auto *tab = new QWidget(this);
    m_curveKey = new QComboBox(tab);
    m_curveKey->setMinimumContentsLength(12);
    m_curveKey->setToolTip(tr("The metric of the version's run to draw"));
    m_curveNote = new QLabel(tab);
    m_curveNote->setStyleSheet(QStringLiteral("color: #666666;"));
    m_plot = new MetricPlot(tab);
    m_plot->setAxisLabels(tr("step"), QString());
    m_plot->setPlaceholderText(tr("No curve"));
    connect(m_curveKey, &QComboBox::currentIndexChanged, this, [this] { loadCurve(); });
    auto *header = new QHBoxLayout;
    header->addWidget(new QLabel(tr("Metric"), tab));
    header->addWidget(m_curveKey);
    header->addWidget(m_curveNote, 1);
    auto *layout = new QVBoxLayout(tab);
    layout->addLayout(header);
    layout->addWidget(m_plot, 1);
    return tab;
}

QWidget *VersionDetailPane::buildBenchmarksTab()
{
    auto *tab = new QWidget(this);
    m_benchmarks = new QTableWidget(tab);
    m_benchmarks->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_benchmarks->verticalHeader()->setVisible(false);
    m_benchmarks->setWordWrap(false);
    m_benchmarkNote = new QLabel(tr("No benchmark results for this version."), tab);
    m_benchmarkNote->setStyleSheet(QStringLiteral("color: #666666;"));
    auto *layout = new QVBoxLayout(tab);
    layout->addWidget(m_benchmarkNote);
    layout->addWidget(m_benchmarks, 1);
    return tab;
}

QWidget *VersionDetailPane::buildNotesTab()
{
    auto *tab = new QWidget(this);
    m_notes = new QPlainTextEdit(tab);
    m_notes->setPlaceholderText(tr("What this version is for, what was tried…"));
    m_saveNotes = new QPushButton(tr("Save notes"), tab);
    m_saveNotes->setToolTip(tr("Saved to the registry; Undo (Ctrl+Z) takes it back"));
    m_saveNotes->setEnabled(false);
    connect(m_notes, &QPlainTextEdit::textChanged, this, [this] {
        m_saveNotes->setEnabled(m_version.id != 0 && m_notes->toPlainText() != m_version.notes);
    });
    connect(m_saveNotes, &QPushButton::clicked, this,
            [this] { Q_EMIT notesSaveRequested(m_notes->toPlainText()); });
    auto *layout = new QVBoxLayout(tab);
    layout->addWidget(m_notes, 1);
    layout->addWidget(m_saveNotes, 0, Qt::AlignRight);
    return tab;
}

void VersionDetailPane::clear()
{
    m_version = ms::VersionRecord{};
    m_record->clear();
    m_notes->clear();
    m_notes->setEnabled(false);
    m_saveNotes->setEnabled(false);
    m_curveKey->blockSignals(true);
    m_curveKey->clear();
    m_curveKey->blockSignals(false);
    m_plot->removeSeries(kCurve);
    m_plot->replotNow();
    m_curveNote->clear();
    m_benchmarks->clear();
    m_benchmarks->setRowCount(0);
    m_benchmarks->setColumnCount(0);
    m_benchmarkNote->setVisible(true);
    setTabText(m_benchmarksTab, tr("Benchmarks"));
    m_layers->clear();
}

void VersionDetailPane::showVersion(const ms::VersionRecord &version)
{
    const bool sameVersion = version.id == m_version.id;
    m_version = version;
    setRecordText(m_record, recordText(version));
    // Keep what is being typed when the same version is shown again (after another edit).
    if (!sameVersion || m_notes->toPlainText() == version.notes || !m_saveNotes->isEnabled()) {
        m_notes->setPlainText(version.notes);
    }
    m_notes->setEnabled(true);
    m_saveNotes->setEnabled(m_notes->toPlainText() != version.notes);
    if (!sameVersion) {
        fillCurveKeys();
        m_curveLoaded = false;
        if (currentIndex() == m_curvesTab)
            loadCurve();
    }
    m_layers->setVersion(version);
    if (currentIndex() == m_layersTab)
        m_layers->load();
    fillBenchmarks();
}

void VersionDetailPane::fillCurveKeys()
{
    QStringList keys;
    if (m_version.runId != 0) {
        try {
            keys = ms::Registry(m_workspace).metricKeys(m_version.runId);
        } catch (const std::exception &e) {
            Q_EMIT errorOccurred(tr("Cannot read the run's metrics: %1").arg(errorMessage(e)));
        }
    }
    m_curveKey->blockSignals(true);
    const QString previous = m_curveKey->currentText();
    m_curveKey->clear();
    m_curveKey->addItems(keys);
    const int keep = m_curveKey->findText(previous.isEmpty() ? QStringLiteral("loss") : previous);
    const int loss = m_curveKey->findText(QStringLiteral("loss"));
    m_curveKey->setCurrentIndex(keep >= 0 ? keep : (loss >= 0 ? loss : 0));
    m_curveKey->setEnabled(!keys.isEmpty());
    m_curveKey->blockSignals(false);
    m_curveNote->setText(m_version.runId == 0 ? tr("No run recorded (imported)") : QString());
}

void VersionDetailPane::loadCurveNow()
{
    loadCurve();
}

void VersionDetailPane::loadCurve()
{
    m_curveLoaded = true;
    m_plot->removeSeries(kCurve);
    const QString key = m_curveKey->currentText();
    if (m_version.runId == 0 || key.isEmpty()) {
        m_plot->replotNow();
        return;
    }
    QVector<ms::MetricSample> samples;
    try {
        samples = ms::Registry(m_workspace).metrics(m_version.runId, key);
    } catch (const std::exception &e) {
        Q_EMIT errorOccurred(tr("Cannot read the curve %1: %2").arg(key, errorMessage(e)));
        return;
    }
    const bool perStep = key == QLatin1String("loss") || key == QLatin1String("lr");
    m_plot->addSeries(kCurve, key,
                      {QColor(0x2b, 0x6c, 0xd4), key == QLatin1String("loss"),
                       samples.size() <= kMarkerPointLimit});
    m_plot->setAxisLabels(tr("step"), key);
    ms::MetricBatch points;
    points.reserve(samples.size());
    for (const ms::MetricSample &s : std::as_const(samples))
        points.append(ms::MetricPoint{kCurve, s.step, s.epoch, s.value, s.wallTime_s});
    m_plot->appendBatch(points);
    m_curveNote->setText(tr("%n point(s)%1", nullptr, int(samples.size()))
                             .arg(perStep ? tr(", one per step") : QString()));
    m_plot->replotNow();
}

void VersionDetailPane::fillBenchmarks()
{
    QVector<QJsonObject> results;
    try {
        results = ms::Registry(m_workspace).benchmarks(m_version.id);
    } catch (const std::exception &e) {
        Q_EMIT errorOccurred(tr("Cannot read the benchmarks: %1").arg(errorMessage(e)));
    }
    QStringList columns;
    for (const QJsonObject &result : std::as_const(results)) {
        for (const QString &key : result.keys()) {
            if (!columns.contains(key))
                columns << key;
        }
    }
    m_benchmarks->clear();
    m_benchmarks->setColumnCount(int(columns.size()));
    m_benchmarks->setRowCount(int(results.size()));
    m_benchmarks->setHorizontalHeaderLabels(columns);
    for (int row = 0; row < results.size(); ++row) {
        for (int column = 0; column < columns.size(); ++column) {
            const QJsonValue value = results.at(row).value(columns.at(column));
            auto *item = new QTableWidgetItem(jsonText(value));
            if (value.isDouble())
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_benchmarks->setItem(row, column, item);
        }
    }
    m_benchmarks->resizeColumnsToContents();
    m_benchmarkNote->setVisible(results.isEmpty());
    setTabText(m_benchmarksTab, results.isEmpty() ? tr("Benchmarks")
                                                  : tr("Benchmarks (%1)").arg(results.size()));
}

} // namespace ms::ui
