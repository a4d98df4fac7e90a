#include "panels/serve/ServeTraffic.h"

#include "common/ColumnFit.h"
#include "panels/serve/RequestLogModel.h"
#include "plots/MetricPlot.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ms::ui {

namespace {

const QColor kBlue(0x2b, 0x6c, 0xd4);
const QColor kOrange(0xe8, 0x71, 0x0a);
constexpr int kBucket_ms = 1000;
constexpr int kLogCapacity = 1000;

// Nearest-rank percentile of sorted, non-empty values.
double percentile(const std::vector<double> &sorted, double p)
{
    const auto rank = size_t(std::ceil(p * double(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

ServeTraffic::ServeTraffic(QWidget *parent)
    : QWidget(parent)
    , m_splitter(new QSplitter(Qt::Vertical, this))
    , m_logModel(new RequestLogModel(kLogCapacity, this))
    , m_bucketTimer(new QTimer(this))
{
    m_splitter->setChildrenCollapsible(false);

    auto *plots = new QWidget(m_splitter);
    m_ratePlot = new MetricPlot(plots);
    m_ratePlot->setAxisLabels(tr("time (s)"), tr("requests/s"));
    m_ratePlot->addSeries(QStringLiteral("rps"), tr("requests/s"), {kBlue, false, true});
    m_ratePlot->setEmptyRanges(0.0, 60.0, 0.0, 10.0);
    m_ratePlot->setPlaceholderText(tr("Requests per second, once serving"));
    m_latencyPlot = new MetricPlot(plots);
    m_latencyPlot->setAxisLabels(tr("time (s)"), tr("latency (ms)"));
    m_latencyPlot->addSeries(QStringLiteral("p50"), tr("p50"), {kBlue, false, true});
    m_latencyPlot->addSeries(QStringLiteral("p99"), tr("p99"), {kOrange, false, true});
    m_latencyPlot->setLegendVisible(true);
    m_latencyPlot->setLegendAbove(true);   // p50 and p99 pass through every corner
    m_latencyPlot->setEmptyRanges(0.0, 60.0, 0.0, 10.0);
    m_latencyPlot->setPlaceholderText(tr("Latency p50 / p99 per second"));
    auto *plotsLayout = new QHBoxLayout(plots);
    plotsLayout->setContentsMargins(0, 4, 0, 4);
    plotsLayout->addWidget(m_ratePlot);
    plotsLayout->addWidget(m_latencyPlot);

    auto *logSection = new QWidget(m_splitter);
    m_logView = new QTableView(logSection);
    m_logView->setModel(m_logModel);
    m_logView->verticalHeader()->setVisible(false);
    m_logView->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_logView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_logView->setAlternatingRowColors(true);
    m_logView->setWordWrap(false);   // one line a request: a long path is elided, not broken
    m_logView->horizontalHeader()->setSectionResizeMode(RequestLogModel::Path,
                                                         QHeaderView::Stretch);
    // The other columns as wide as their header or their widest value, no wider: the path gets
    // the rest and, when that is too little, is elided in the middle (its model name and verb
    // both stay in view; the whole is in the tooltip).
    auto *delegate = new ElidingDelegate(m_logView);
    delegate->setElideMode(RequestLogModel::Path, Qt::ElideMiddle);
    m_logView->setItemDelegate(delegate);
    const struct
    {
        int column;
        const char *widest;
    } samples[] = {{RequestLogModel::Time, "00:00:00.000"},
                   {RequestLogModel::Method, "DELETE"},
                   {RequestLogModel::Status, "503"},
                   {RequestLogModel::Latency, "10000.00"},
                   {RequestLogModel::Batch, "256"}};
    const int cellPadding_px = 2 * (style()->pixelMetric(QStyle::PM_FocusFrameHMargin) + 1) + 4;
    for (const auto &sample : samples) {
        m_logView->setColumnWidth(
            sample.column,
            std::max(m_logView->horizontalHeader()->sectionSizeHint(sample.column),
                     fontMetrics().horizontalAdvance(QLatin1String(sample.widest))
                         + cellPadding_px));
    }
    auto *title = new QLabel(tr("Requests (latest %1)").arg(kLogCapacity), logSection);
    QFont bold = title->font();
    bold.setBold(true);
    title->setFont(bold);
    auto *logLayout = new QVBoxLayout(logSection);
    logLayout->setContentsMargins(0, 4, 0, 0);
    logLayout->addWidget(title);
    logLayout->addWidget(m_logView, 1);

    m_splitter->addWidget(plots);
    m_splitter->addWidget(logSection);
    m_splitter->setSizes({300, 260});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    m_bucketTimer->setInterval(kBucket_ms);
    connect(m_bucketTimer, &QTimer::timeout, this, &ServeTraffic::closeBucket);
}

ServeTraffic::~ServeTraffic() = default;

void ServeTraffic::start()
{
    m_logModel->clear();
    m_ratePlot->clearData();
    m_latencyPlot->clearData();
    m_bucketLatencies_ms.clear();
    m_lastBucket_s = 0.0;
    m_clock.start();
    m_bucketTimer->start();
}

void ServeTraffic::stop()
{
    if (!m_bucketTimer->isActive())
        return;
    m_bucketTimer->stop();
    closeBucket();
    m_clock.invalidate();
    m_ratePlot->replotNow();
    m_latencyPlot->replotNow();
}

void ServeTraffic::record(const ms::RequestRecord &record)
{
    m_logModel->append(record);
    if (m_clock.isValid())
        m_bucketLatencies_ms.push_back(record.latency_us / 1000.0);
}

void ServeTraffic::closeBucket()
{
    if (!m_clock.isValid())
        return;
    const double x_s = std::round(m_clock.elapsed() / 100.0) / 10.0;
    // A rate per second even for the last, partial bucket (Stop).
    const double span_s = qMax(0.1, x_s - m_lastBucket_s);
    m_lastBucket_s = x_s;
    m_ratePlot->append(QStringLiteral("rps"), {x_s},
                       {double(m_bucketLatencies_ms.size()) / span_s});
    if (m_bucketLatencies_ms.empty())
        return;
    std::sort(m_bucketLatencies_ms.begin(), m_bucketLatencies_ms.end());
    m_latencyPlot->append(QStringLiteral("p50"), {x_s}, {percentile(m_bucketLatencies_ms, 0.50)});
    m_latencyPlot->append(QStringLiteral("p99"), {x_s}, {percentile(m_bucketLatencies_ms, 0.99)});
    m_bucketLatencies_ms.clear();
}

} // namespace ms::ui
