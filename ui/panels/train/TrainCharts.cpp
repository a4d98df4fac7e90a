#include "panels/train/TrainCharts.h"

#include "common/Format.h"
#include "common/Widgets.h"
#include "plots/MetricPlot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace ms::ui {

namespace {

const QColor kBlue(0x2b, 0x6c, 0xd4);
const QColor kOrange(0xe8, 0x71, 0x0a);
const QColor kGreen(0x1e, 0x8e, 0x3e);
// Past runs: colours apart from the live run's blue/orange/green (Tableau 10's remaining ones).
const QColor kPastColors[] = {QColor(0x94, 0x67, 0xbd), QColor(0x17, 0xbe, 0xcf),
                              QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2),
                              QColor(0xbc, 0xbd, 0x22), QColor(0xd6, 0x27, 0x28),
                              QColor(0x7f, 0x7f, 0x7f)};

const char *const kLiveSeries[] = {"loss", "train_acc", "val_acc", "test_acc", "train_ppl",
                                    "val_ppl"};

QIcon swatch(const QColor &color)
{
    QPixmap pixmap(12, 12);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(color);
    painter.drawRoundedRect(QRectF(1, 1, 10, 10), 2, 2);
    return QIcon(pixmap);
}

QString valueText(double value, bool percent)
{
    if (std::isnan(value))
        return QStringLiteral("—");
    return percent ? QStringLiteral("%1 %").arg(value * 100.0, 0, 'f', 2) : formatValue(value);
}

} // namespace

TrainCharts::TrainCharts(QWidget *parent)
    : QWidget(parent)
    , m_splitter(new QSplitter(Qt::Vertical, this))
{
    m_splitter->setChildrenCollapsible(false);

    auto *lossSection = new QWidget(m_splitter);
    m_lossPlot = new MetricPlot(lossSection);
    m_lossPlot->setAxisLabels(tr("step"), tr("loss"));
    m_lossPlot->setXSource(MetricPlot::XSource::Step);
    m_lossPlot->addSeries(QStringLiteral("loss"), tr("loss"), {kBlue, true, false});
    m_lossPlot->setEmptyRanges(0.0, 100.0, 0.0, 2.5);
    m_lossPlot->setPlaceholderText(tr("Start a run to see its loss, step by step"));
    m_smoothing = new QSlider(Qt::Horizontal, lossSection);
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(int(std::lround(m_lossPlot->smoothing() * 100)));
    m_smoothing->setFixedWidth(110);
    m_smoothing->setToolTip(tr("Exponential moving average of the loss (0 = raw)"));
    m_smoothingValue = new QLabel(lossSection);
    m_smoothingValue->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0.00")));
    m_smoothingValue->setText(QString::number(m_lossPlot->smoothing(), 'f', 2));
    m_logScale = new QCheckBox(tr("Log scale"), lossSection);
    m_xAxis = new QComboBox(lossSection);
    m_xAxis->addItems({tr("step"), tr("epoch"), tr("wall time")});
    m_xAxis->setToolTip(tr("What the loss plot's x axis counts"));
    connect(m_smoothing, &QSlider::valueChanged, this, [this](int value) {
        m_lossPlot->setSmoothing(value / 100.0);
        m_smoothingValue->setText(QString::number(value / 100.0, 'f', 2));
    });
    connect(m_logScale, &QCheckBox::toggled, this,
            [this](bool checked) { m_lossPlot->setLogScale(checked); });
    connect(m_xAxis, &QComboBox::currentIndexChanged, this, &TrainCharts::setXAxis);

    auto *lossHeader = new QHBoxLayout;
    lossHeader->addWidget(sectionTitle(tr("Training loss"), lossSection));
    lossHeader->addStretch(1);
    lossHeader->addWidget(new QLabel(tr("x:"), lossSection));
    lossHeader->addWidget(m_xAxis);
    lossHeader->addSpacing(8);
    lossHeader->addWidget(new QLabel(tr("Smoothing"), lossSection));
    lossHeader->addWidget(m_smoothing);
    lossHeader->addWidget(m_smoothingValue);
    lossHeader->addSpacing(8);
    lossHeader->addWidget(m_logScale);
    auto *lossLayout = new QVBoxLayout(lossSection);
    lossLayout->setContentsMargins(0, 0, 0, 4);
    lossLayout->addLayout(lossHeader);
    lossLayout->addWidget(m_lossPlot, 1);

    auto *accuracySection = new QWidget(m_splitter);
    m_accuracyPlot = new MetricPlot(accuracySection);
    m_accuracyPlot->setXSource(MetricPlot::XSource::Epoch);
    m_accuracyPlot->setIntegerXTicks(true);
    m_accuracyPlot->setLegendVisible(true);

    // A handful of rows at most: a QTableWidget is the right size of tool here.
    m_runTable = new QTableWidget(0, 3, accuracySection);
    m_runTable->verticalHeader()->setVisible(false);
    m_runTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_runTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_runTable->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_runTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_runTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_runTable->setFocusPolicy(Qt::NoFocus);
    m_runTable->setWordWrap(false);
    m_runTable->setMinimumWidth(260);
    m_runTable->setToolTip(tr("Finished runs stay on the plots in their colour until cleared"));
    m_clearRuns = new QPushButton(tr("Clear past runs"), accuracySection);
    m_clearRuns->setEnabled(false);
    connect(m_clearRuns, &QPushButton::clicked, this, &TrainCharts::clearPastRuns);

    auto *runsSide = new QVBoxLayout;
    runsSide->addWidget(sectionTitle(tr("Runs"), accuracySection));
    runsSide->addWidget(m_runTable, 1);
    runsSide->addWidget(m_clearRuns, 0, Qt::AlignRight);
    auto *plotSide = new QVBoxLayout;
    m_epochTitle = sectionTitle(QString(), accuracySection);
    plotSide->addWidget(m_epochTitle);
    plotSide->addWidget(m_accuracyPlot, 1);
    auto *accuracyLayout = new QHBoxLayout(accuracySection);
    accuracyLayout->setContentsMargins(0, 4, 0, 0);
    accuracyLayout->addLayout(plotSide, 3);
    accuracyLayout->addLayout(runsSide, 2);

    m_splitter->addWidget(lossSection);
    m_splitter->addWidget(accuracySection);
    m_splitter->setStretchFactor(0, 5);
    m_splitter->setStretchFactor(1, 4);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);
    configureEpochPlot();
    updateRunTable();
}

void TrainCharts::configureEpochPlot()
{
    m_accuracyPlot->removeAllSeries();
    if (m_languageModel) {
        m_accuracyPlot->setAxisLabels(tr("epoch"), tr("perplexity"));
        m_accuracyPlot->clearValueClamp();
        m_accuracyPlot->setEmptyRanges(0.5, 3.5, 1.0, 20.0);
        m_accuracyPlot->setPlaceholderText(tr("Perplexity appears at the end of each epoch"));
        m_accuracyPlot->addSeries(QStringLiteral("train_ppl"), tr("train"), {kBlue, false, true});
        m_accuracyPlot->addSeries(QStringLiteral("val_ppl"), tr("validation"),
                                  {kOrange, false, true});
        m_epochTitle->setText(tr("Perplexity per epoch"));
        m_runTable->setHorizontalHeaderLabels({tr("Run"), tr("Best loss"), tr("Best val ppl")});
        return;
    }
    m_accuracyPlot->setAxisLabels(tr("epoch"), tr("accuracy"));
    m_accuracyPlot->setValueClamp(0.0, 1.0);
    m_accuracyPlot->setEmptyRanges(0.5, 3.5, 0.0, 1.0);
    m_accuracyPlot->setPlaceholderText(tr("Accuracy appears at the end of each epoch"));
    m_accuracyPlot->addSeries(QStringLiteral("train_acc"), tr("train"), {kBlue, false, true});
    m_accuracyPlot->addSeries(QStringLiteral("val_acc"), tr("validation"),
                              {kOrange, false, true});
    m_accuracyPlot->addSeries(QStringLiteral("test_acc"), tr("test"), {kGreen, false, true});
    m_epochTitle->setText(tr("Accuracy per epoch"));
    m_runTable->setHorizontalHeaderLabels({tr("Run"), tr("Best loss"), tr("Best val acc")});
}

QString TrainCharts::epochKey() const
{
    return m_languageModel ? QStringLiteral("val_ppl") : QStringLiteral("val_acc");
}

void TrainCharts::setLanguageModel(bool languageModel)
{
    if (languageModel == m_languageModel)
        return;
    clearPastRuns();
    m_languageModel = languageModel;
    configureEpochPlot();
    updateRunTable();
}

void TrainCharts::beginRun(const QString &label)
{
    if (m_currentHasData) {
        // The run that ended stays: its loss and validation accuracy in one colour of its own.
        const int n = m_runsStarted;
        const QColor color = kPastColors[m_pastRuns.size() % std::size(kPastColors)];
        PastRun past{m_currentLabel, color, QStringLiteral("run%1/loss").arg(n),
                     QStringLiteral("run%1/%2").arg(n).arg(epochKey())};
        m_lossPlot->copySeries(QStringLiteral("loss"), past.lossId, past.label,
                               {color, true, false});
        m_accuracyPlot->copySeries(epochKey(), past.accuracyId,
                                   tr("%1 (val)").arg(past.label), {color, false, true});
        m_pastRuns.append(past);
    }
    clearData();
    ++m_runsStarted;
    m_currentLabel = label.isEmpty() ? tr("run %1").arg(m_runsStarted) : label;
    m_clearRuns->setEnabled(!m_pastRuns.isEmpty());
    updateRunTable();
}

void TrainCharts::setStepsPerEpoch(qint64 steps)
{
    m_lossPlot->setStepsPerEpoch(steps);
}

void TrainCharts::appendBatch(const ms::MetricBatch &points)
{
    m_lossPlot->appendBatch(points);
    m_accuracyPlot->appendBatch(points);
    m_currentHasData = m_currentHasData || !points.isEmpty();
    // Only the live row changes; a batch arrives a few times a second at most.
    if (m_runTable->rowCount() > 0)
        setRunRow(0, m_currentLabel, kBlue, QStringLiteral("loss"), epochKey());
}

void TrainCharts::clearData()
{
    for (const char *id : kLiveSeries) {
        m_lossPlot->clearSeries(QString::fromLatin1(id));
        m_accuracyPlot->clearSeries(QString::fromLatin1(id));
    }
    m_currentHasData = false;
    updateRunTable();
}

void TrainCharts::clearPastRuns()
{
    for (const PastRun &past : std::as_const(m_pastRuns)) {
        m_lossPlot->removeSeries(past.lossId);
        m_accuracyPlot->removeSeries(past.accuracyId);
    }
    m_pastRuns.clear();
    m_clearRuns->setEnabled(false);
    updateRunTable();
}

void TrainCharts::replotNow()
{
    m_lossPlot->replotNow();
    m_accuracyPlot->replotNow();
}

void TrainCharts::setXAxis(int index)
{
    static const MetricPlot::XSource sources[] = {MetricPlot::XSource::Step,
                                                  MetricPlot::XSource::Epoch,
                                                  MetricPlot::XSource::WallTime};
    if (index < 0 || index >= int(std::size(sources)))
        return;
    const QStringList labels{tr("step"), tr("epoch"), tr("seconds")};
    m_lossPlot->setAxisLabels(labels.at(index), tr("loss"));
    m_lossPlot->setXSource(sources[index]);
}

void TrainCharts::setRunRow(int row, const QString &label, const QColor &color,
                            const QString &lossId, const QString &accuracyId)
{
    const QString texts[] = {label, valueText(m_lossPlot->minValue(lossId), false),
                             m_languageModel
                                 ? valueText(m_accuracyPlot->minValue(accuracyId), false)
                                 : valueText(m_accuracyPlot->maxValue(accuracyId), true)};
    for (int column = 0; column < 3; ++column) {
        QTableWidgetItem *item = m_runTable->item(row, column);
        if (!item) {
            item = new QTableWidgetItem;
            if (column > 0)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_runTable->setItem(row, column, item);
        }
        if (item->text() != texts[column])
            item->setText(texts[column]);
    }
    m_runTable->item(row, 0)->setIcon(swatch(color));
    m_runTable->item(row, 0)->setToolTip(label);
}

void TrainCharts::updateRunTable()
{
    const bool live = !m_currentLabel.isEmpty();
    m_runTable->setRowCount(int(m_pastRuns.size()) + (live ? 1 : 0));
    int row = 0;
    if (live)
        setRunRow(row++, m_currentLabel, kBlue, QStringLiteral("loss"), epochKey());
    // Newest past run first, under the live one.
    for (auto it = m_pastRuns.crbegin(); it != m_pastRuns.crend(); ++it)
        setRunRow(row++, it->label, it->color, it->lossId, it->accuracyId);
}

void TrainCharts::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("chartsSplitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("smoothing"), m_smoothing->value());
    settings.setValue(QStringLiteral("logScale"), m_logScale->isChecked());
    settings.setValue(QStringLiteral("xAxis"), m_xAxis->currentIndex());
}

void TrainCharts::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("chartsSplitter")).toByteArray());
    m_smoothing->setValue(settings.value(QStringLiteral("smoothing"),
                                         m_smoothing->value()).toInt());
    m_logScale->setChecked(settings.value(QStringLiteral("logScale"), false).toBool());
    m_xAxis->setCurrentIndex(
        std::clamp(settings.value(QStringLiteral("xAxis"), 0).toInt(), 0, 2));
}

} // namespace ms::ui
