#include "TrainCharts.h"

#include "Widgets.h"

#include "MetricPlot.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>

namespace ms::ui {

namespace {

const QColor kBlue(0x2b, 0x6c, 0xd4);
const QColor kOrange(0xe8, 0x71, 0x0a);
const QColor kGreen(0x1e, 0x8e, 0x3e);

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
    m_smoothing->setFixedWidth(120);
    m_smoothing->setToolTip(tr("Exponential moving average of the loss (0 = raw)"));
    m_smoothingValue = new QLabel(lossSection);
    m_smoothingValue->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0.00")));
    m_smoothingValue->setText(QString::number(m_lossPlot->smoothing(), 'f', 2));
    m_logScale = new QCheckBox(tr("Log scale"), lossSection);
    connect(m_smoothing, &QSlider::valueChanged, this, [this](int value) {
        m_lossPlot->setSmoothing(value / 100.0);
        m_smoothingValue->setText(QString::number(value / 100.0, 'f', 2));
    });
    connect(m_logScale, &QCheckBox::toggled, this,
            [this](bool checked) { m_lossPlot->setLogScale(checked); });

    auto *lossHeader = new QHBoxLayout;
    lossHeader->addWidget(sectionTitle(tr("Training loss"), lossSection));
    lossHeader->addStretch(1);
    lossHeader->addWidget(new QLabel(tr("Smoothing"), lossSection));
    lossHeader->addWidget(m_smoothing);
    lossHeader->addWidget(m_smoothingValue);
    lossHeader->addSpacing(12);
    lossHeader->addWidget(m_logScale);
    auto *lossLayout = new QVBoxLayout(lossSection);
    lossLayout->setContentsMargins(0, 0, 0, 4);
    lossLayout->addLayout(lossHeader);
    lossLayout->addWidget(m_lossPlot, 1);

    auto *accuracySection = new QWidget(m_splitter);
    m_accuracyPlot = new MetricPlot(accuracySection);
    m_accuracyPlot->setAxisLabels(tr("epoch"), tr("accuracy"));
    m_accuracyPlot->setXSource(MetricPlot::XSource::Epoch);
    m_accuracyPlot->setIntegerXTicks(true);
    m_accuracyPlot->setValueClamp(0.0, 1.0);
    m_accuracyPlot->setLegendVisible(true);
    m_accuracyPlot->setEmptyRanges(0.5, 3.5, 0.0, 1.0);
    m_accuracyPlot->setPlaceholderText(tr("Accuracy appears at the end of each epoch"));
    m_accuracyPlot->addSeries(QStringLiteral("train_acc"), tr("train"), {kBlue, false, true});
    m_accuracyPlot->addSeries(QStringLiteral("val_acc"), tr("validation"),
                              {kOrange, false, true});
    m_accuracyPlot->addSeries(QStringLiteral("test_acc"), tr("test"), {kGreen, false, true});
    auto *accuracyLayout = new QVBoxLayout(accuracySection);
    accuracyLayout->setContentsMargins(0, 4, 0, 0);
    accuracyLayout->addWidget(sectionTitle(tr("Accuracy per epoch"), accuracySection));
    accuracyLayout->addWidget(m_accuracyPlot, 1);

    m_splitter->addWidget(lossSection);
    m_splitter->addWidget(accuracySection);
    m_splitter->setStretchFactor(0, 5);
    m_splitter->setStretchFactor(1, 4);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);
}

void TrainCharts::appendBatch(const ms::MetricBatch &points)
{
    m_lossPlot->appendBatch(points);
    m_accuracyPlot->appendBatch(points);
}

void TrainCharts::clearData()
{
    m_lossPlot->clearData();
    m_accuracyPlot->clearData();
}

void TrainCharts::replotNow()
{
    m_lossPlot->replotNow();
    m_accuracyPlot->replotNow();
}

void TrainCharts::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("chartsSplitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("smoothing"), m_smoothing->value());
    settings.setValue(QStringLiteral("logScale"), m_logScale->isChecked());
}

void TrainCharts::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("chartsSplitter")).toByteArray());
    m_smoothing->setValue(settings.value(QStringLiteral("smoothing"),
                                         m_smoothing->value()).toInt());
    m_logScale->setChecked(settings.value(QStringLiteral("logScale"), false).toBool());
}

} // namespace ms::ui
