#include "panels/compare/VariantsView.h"

#include "panels/compare/ConfusionHeatmap.h"
#include "panels/compare/DisagreementView.h"
#include "panels/compare/VariantCard.h"
#include "panels/compare/VariantScatter.h"
#include "panels/compare/VariantTableModel.h"

#include "bench/BenchmarkJob.h"
#include "common/Error.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSet>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <memory>

namespace ms::ui {

namespace {

// The p50 latency at one batch size; negative when the benchmark did not measure it.
double p50At(const QJsonObject &benchmark, int batch)
{
    for (const QJsonValue &v : benchmark.value(QStringLiteral("latency")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("batch_size")).toInt() == batch)
            return o.value(QStringLiteral("p50_ms")).toDouble(-1.0);
    }
    return -1.0;
}

QString bytesText(const QJsonValue &v)
{
    return v.isDouble() ? QLocale::c().formattedDataSize(qint64(v.toDouble()), 1)
                        : QStringLiteral("—");
}

// "0.27×" for a ratio against the baseline, better when below 1 (sizes, memory).
VariantCard::Line ratioLine(const QString &name, const QString &value, const QJsonObject &delta)
{
    VariantCard::Line line{name, value, QString(), 0};
    if (!delta.contains(QStringLiteral("ratio")))
        return line;
    const double ratio = delta.value(QStringLiteral("ratio")).toDouble();
    line.delta = QStringLiteral("%1×").arg(ratio, 0, 'f', 2);
    line.better = VariantTableModel::ratioVerdict(ratio, -1);
    return line;
}

// Keeps a cell's green or red on a selected row, where the style would paint every text in the
// highlight colour: the selection picks heat maps, it must not hide which deltas are better.
class ForegroundKeepingDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        const QVariant foreground = index.data(Qt::ForegroundRole);
        if (foreground.canConvert<QBrush>())
            option->palette.setBrush(QPalette::HighlightedText, foreground.value<QBrush>());
    }
};

// A language model's card: perplexity and generation speed where a classifier's shows accuracy
// and latency (bench/Comparison.h, languageModelColumns).
QVector<VariantCard::Line> languageModelLines(const ms::Comparison::Row &row, bool baseline)
{
    QVector<VariantCard::Line> lines;
    const QJsonValue ppl = row.values.value(QStringLiteral("val_ppl"));
    lines << ratioLine(
        VariantsView::tr("Perplexity"),
        ppl.isDouble() ? QString::number(ppl.toDouble(), 'f', 3) : QStringLiteral("—"),
        baseline ? QJsonObject() : row.deltas.value(QStringLiteral("val_ppl")).toObject());

    VariantCard::Line speed{VariantsView::tr("Generation"), QStringLiteral("—"), QString(), 0};
    const QJsonValue rate = row.values.value(QStringLiteral("gen_tokens_per_s"));
    if (rate.isDouble())
        speed.value = VariantsView::tr("%1 tokens/s").arg(rate.toDouble(), 0, 'f', 0);
    const QJsonObject delta = row.deltas.value(QStringLiteral("gen_tokens_per_s")).toObject();
    if (!baseline && delta.contains(QStringLiteral("ratio"))) {
        const double ratio = delta.value(QStringLiteral("ratio")).toDouble();
        speed.better = VariantTableModel::ratioVerdict(ratio, 1);
        speed.delta = speed.better > 0   ? VariantsView::tr("%1× faster").arg(ratio, 0, 'f', 2)
                      : speed.better < 0 ? VariantsView::tr("%1× slower").arg(1.0 / ratio, 0,
                                                                               'f', 2)
                                         : VariantsView::tr("same");
    }
    lines << speed;
    return lines;
}

// A classifier's card: accuracy and latency at batch `b` against the baseline's.
QVector<VariantCard::Line> classifierLines(const ms::Comparison::Row &row,
                                           const QJsonObject &benchmark, bool baseline, int b,
                                           double baseLatency_ms)
{
    QVector<VariantCard::Line> lines;
    VariantCard::Line acc{VariantsView::tr("Accuracy"), QStringLiteral("—"), QString(), 0};
    const QJsonValue a = row.values.value(QStringLiteral("test_acc"));
    if (a.isDouble())
        acc.value = QStringLiteral("%1 %").arg(a.toDouble() * 100.0, 0, 'f', 2);
    const QJsonObject accDelta = row.deltas.value(QStringLiteral("test_acc")).toObject();
    if (!baseline && accDelta.contains(QStringLiteral("diff"))) {
        const double points_pt = accDelta.value(QStringLiteral("diff")).toDouble() * 100.0;
        acc.delta = QStringLiteral("%1%2 pt").arg(points_pt >= 0 ? QStringLiteral("+")
                                                                 : QString())
                        .arg(points_pt, 0, 'f', 2);
        acc.better = VariantTableModel::pointsVerdict(points_pt / 100.0);
    }
    lines << acc;

    // The batch size is the combo's above the cards; the tooltip says it too.
    VariantCard::Line latency{VariantsView::tr("Latency"), QStringLiteral("—"), QString(), 0};
    const double l_ms = p50At(benchmark, b);
    if (l_ms >= 0)
        latency.value = QStringLiteral("%1 ms").arg(l_ms, 0, 'f', l_ms < 10 ? 3 : 1);
    if (!baseline && l_ms > 0 && baseLatency_ms > 0) {
        // "2.1× faster" reads at once; a ratio under 1 has to be worked out.
        latency.better = VariantTableModel::ratioVerdict(l_ms / baseLatency_ms, -1);
        const double faster = baseLatency_ms / l_ms;
        latency.delta =
            latency.better > 0   ? VariantsView::tr("%1× faster").arg(faster, 0, 'f', 2)
            : latency.better < 0 ? VariantsView::tr("%1× slower").arg(1.0 / faster, 0, 'f', 2)
                                 : VariantsView::tr("same");
    }
    lines << latency;
    return lines;
}

QVector<QVector<double>> matrixOf(const QJsonObject &benchmark)
{
    QVector<QVector<double>> matrix;
    for (const QJsonValue &row : benchmark.value(QStringLiteral("confusion_matrix")).toArray()) {
        QVector<double> cells;
        for (const QJsonValue &cell : row.toArray())
            cells << cell.toDouble();
        matrix << cells;
    }
    return matrix;
}

} // namespace

VariantsView::VariantsView(QWidget *parent)
    : QWidget(parent)
{
    m_batch = new QComboBox(this);
    m_batch->setToolTip(tr("The batch size whose median (p50) latency the scatter and the cards "
                           "show"));
    connect(m_batch, &QComboBox::activated, this, [this] {
        m_wantedBatch = m_batch->currentData().toInt();
        refreshScatterAndCards();
    });
    m_log = new QCheckBox(tr("&Log latency axis"), this);
    connect(m_log, &QCheckBox::toggled, this, [this](bool on) { m_scatter->setLogLatency(on); });
    m_hint = new QLabel(this);
    m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_hint->setStyleSheet(QStringLiteral("color: #666666;"));
    m_benchButton = new QPushButton(tr("Benchmark"), this);
    m_benchButton->setVisible(false);
    connect(m_benchButton, &QPushButton::clicked, this, &VariantsView::runBenchmarks);

    auto *bar = new QHBoxLayout;
    auto *batchLabel = new QLabel(tr("Latency at &batch"), this);
    batchLabel->setBuddy(m_batch);
    bar->addWidget(batchLabel);
    bar->addWidget(m_batch);
    bar->addSpacing(12);
    bar->addWidget(m_log);
    bar->addStretch(1);
    bar->addWidget(m_hint);
    bar->addWidget(m_benchButton);

    m_warnings = new QLabel(this);
    m_warnings->setWordWrap(true);
    m_warnings->setStyleSheet(QStringLiteral("color: #a15c00;"));
    m_warnings->setVisible(false);

    m_empty = new QLabel(this);
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setStyleSheet(QStringLiteral("color: #666666;"));

    // --- cards, side by side; a scroll bar only when there are more than fit ---
    auto *cardHost = new QWidget(this);
    m_cardRow = new QHBoxLayout(cardHost);
    m_cardRow->setContentsMargins(0, 0, 0, 0);
    m_cardRow->addStretch(1);
    m_cardScroll = new QScrollArea(this);
    m_cardScroll->setWidget(cardHost);
    m_cardScroll->setWidgetResizable(true);
    m_cardScroll->setFrameShape(QFrame::NoFrame);
    m_cardScroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    m_scatter = new VariantScatter(this);

    auto *heatmapHost = new QWidget(this);
    m_heatmapRow = new QHBoxLayout(heatmapHost);
    m_heatmapRow->setContentsMargins(0, 0, 0, 0);

    m_model = new VariantTableModel(this);
    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->setToolTip(tr("Select rows to see their confusion matrices"));
    m_table->setItemDelegate(new ForegroundKeepingDelegate(m_table));
    QPalette light = m_table->palette();   // a light selection: the deltas stay readable
    light.setColor(QPalette::Highlight, QColor(0xd6, 0xe6, 0xf5));
    light.setColor(QPalette::HighlightedText, QColor(0x20, 0x20, 0x20));
    m_table->setPalette(light);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { refreshHeatmaps(); });

    auto *middle = new QSplitter(Qt::Horizontal, this);
    m_middle = middle;
    middle->setChildrenCollapsible(false);
    // Up to three matrices side by side, each no narrower than its names need: a scroll bar
    // when the window is too narrow for them, rather than a window wider than the screen.
    m_heatmapScroll = new QScrollArea(this);
    m_heatmapScroll->setWidget(heatmapHost);
    m_heatmapScroll->setWidgetResizable(true);
    m_heatmapScroll->setFrameShape(QFrame::NoFrame);
    middle->addWidget(m_scatter);
    middle->addWidget(m_heatmapScroll);
    middle->setStretchFactor(0, 1);
    middle->setStretchFactor(1, 2);

    auto *vertical = new QSplitter(Qt::Vertical, this);
    vertical->setChildrenCollapsible(false);
    vertical->addWidget(m_cardScroll);
    vertical->addWidget(middle);
    vertical->addWidget(m_table);
    vertical->setStretchFactor(0, 0);
    vertical->setStretchFactor(1, 1);
    vertical->setStretchFactor(2, 0);
    vertical->setSizes({150, 340, 140});

    m_content = new QWidget(this);
    auto *contentLayout = new QVBoxLayout(m_content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    contentLayout->addWidget(vertical, 1);

    // The benchmarks above, the explorer below: it needs no benchmark, so it stays when the
    // checked versions have none.
    auto *benchmarks = new QWidget(this);
    auto *benchmarksLayout = new QVBoxLayout(benchmarks);
    benchmarksLayout->setContentsMargins(0, 0, 0, 0);
    benchmarksLayout->addWidget(m_empty, 1);
    benchmarksLayout->addWidget(m_content, 1);
    m_disagreements = new DisagreementView(this);
    connect(m_disagreements, &DisagreementView::tryRequested, this,
            &VariantsView::tryRequested);
    auto *outer = new QSplitter(Qt::Vertical, this);
    outer->setChildrenCollapsible(false);
    outer->addWidget(benchmarks);
    outer->addWidget(m_disagreements);
    outer->setStretchFactor(0, 3);
    outer->setStretchFactor(1, 1);
    outer->setSizes({560, 190}); // a row and a half of cells

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_warnings);   // a failed benchmark shows even when no row has one
    layout->addWidget(outer, 1);
    setEntries({});
}

void VariantsView::setJobRunner(ms::JobRunner *runner, const QString &workspace)
{
    if (m_runner)
        disconnect(m_runner, nullptr, this, nullptr);
    m_runner = runner;
    m_workspace = workspace;
    m_disagreements->setJobRunner(runner, workspace);
    if (runner) {
        connect(runner, &ms::JobRunner::finished, this,
                [this](ms::JobId id, const ms::JobResult &result) {
                    if (id != m_job)
                        return;
                    m_job = 0;
                    m_benchButton->setEnabled(true);
                    m_jobMessage = result.status == ms::JobStatus::Finished
                                       ? QString()
                                       : tr("The benchmark did not finish: %1")
                                             .arg(result.message);
                    // The versions it finished before failing are stored: show them.
                    Q_EMIT benchmarksStored();
                    setEntries(m_allEntries);
                });
    }
    setEntries(m_allEntries);
}

void VariantsView::setEntries(const QVector<Entry> &entries)
{
    // A reload of the same versions keeps the heat maps the user chose; another set of
    // versions gets the default pair.
    QStringList before;
    for (const Entry &e : std::as_const(m_entries))
        before << e.ref;
    QStringList shown;
    for (ConfusionHeatmap *map : std::as_const(m_heatmaps))
        shown << map->title();

    m_allEntries = entries;
    QStringList refs;
    for (const Entry &entry : entries)
        refs << entry.ref;
    m_disagreements->setVersions(refs);
    m_entries.clear();
    m_missing.clear();
    QVector<QPair<QString, QJsonObject>> benchmarks;
    QVector<QColor> colors;
    for (const Entry &entry : entries) {
        if (entry.benchmark.isEmpty()) {
            m_missing << entry.ref;
            continue;
        }
        m_entries << entry;
        benchmarks.append({entry.ref, entry.benchmark});
        colors << entry.color;
    }
    m_comparison = ms::Comparison::fromBenchmarks(benchmarks);
    m_model->setComparison(m_comparison, colors);
    m_table->resizeColumnsToContents();

    if (m_missing.isEmpty()) {
        m_hint->clear();
    } else {
        const QString refs = m_missing.join(QLatin1Char(' '));
        m_hint->setText(tr("Not benchmarked: %1. Run modelstudio-cli bench %1").arg(refs));
    }
    m_hint->setVisible(!m_missing.isEmpty());
    m_benchButton->setVisible(!m_missing.isEmpty() && m_runner);
    m_benchButton->setText(m_missing.size() == 1 ? tr("Benchmark %1").arg(m_missing.first())
                                                 : tr("Benchmark %1 versions")
                                                       .arg(m_missing.size()));
    m_benchButton->setEnabled(m_job == 0);

    QStringList warnings = m_comparison.warnings();
    if (!m_jobMessage.isEmpty())
        warnings << m_jobMessage;
    m_warnings->setText(warnings.join(QLatin1Char(' ')));
    m_warnings->setVisible(!m_warnings->text().isEmpty());

    const bool any = !m_entries.isEmpty();
    m_content->setVisible(any);
    m_empty->setVisible(!any);
    m_empty->setText(entries.isEmpty()
                         ? tr("Check versions on the left to compare their benchmarks: "
                              "accuracy, latency, size and memory, against the first checked.")
                         : tr("None of the checked versions has a benchmark yet. Run "
                              "modelstudio-cli bench on them%1.")
                               .arg(m_runner ? tr(", or press Benchmark") : QString()));
    // Language models have no accuracy to plot against latency and no confusion matrix: their
    // cards and table (perplexity, generation tokens/s) are the comparison.
    const bool languageModels = m_comparison.languageModels();
    m_middle->setVisible(!languageModels);
    m_batch->setEnabled(any && !languageModels);
    m_log->setEnabled(any && !languageModels);

    rebuildBatchChoices();
    refreshScatterAndCards();

    QStringList now;
    for (const Entry &e : std::as_const(m_entries))
        now << e.ref;
    // The baseline and the last variant by default: the pair a compression is judged on.
    QStringList keep = now == before ? shown : QStringList();
    if (now != before && any) {
        keep << m_entries.first().ref;
        if (m_entries.size() > 1)
            keep << m_entries.last().ref;
    }
    showConfusion(keep);
}

void VariantsView::rebuildBatchChoices()
{
    QSet<int> sizes;
    for (const Entry &e : std::as_const(m_entries)) {
        for (const QJsonValue &v : e.benchmark.value(QStringLiteral("latency")).toArray())
            sizes.insert(v.toObject().value(QStringLiteral("batch_size")).toInt());
    }
    QList<int> sorted(sizes.cbegin(), sizes.cend());
    std::sort(sorted.begin(), sorted.end());
    m_batch->clear();
    for (int b : sorted)
        m_batch->addItem(QString::number(b), b);
    int index = m_batch->findData(m_wantedBatch);
    if (index < 0)   // 32 is where int8 pays off on a CPU; else the largest measured
        index = m_batch->findData(32);
    if (index < 0)
        index = m_batch->count() - 1;
    m_batch->setCurrentIndex(index);
}

bool VariantsView::setBatch(int batch)
{
    const int index = m_batch->findData(batch);
    if (index < 0)
        return false;
    m_wantedBatch = batch;
    m_batch->setCurrentIndex(index);
    refreshScatterAndCards();
    return true;
}

int VariantsView::batch() const
{
    return m_batch->currentData().toInt();
}

void VariantsView::setLogLatency(bool log)
{
    m_log->setChecked(log);
}

void VariantsView::refreshScatterAndCards()
{
    const int b = batch();
    QVector<VariantScatter::Point> points;
    QStringList unplotted;
    for (int i = 0; i < m_entries.size(); ++i) {
        const Entry &e = m_entries[i];
        const double latency_ms = p50At(e.benchmark, b);
        const QJsonValue acc = e.benchmark.value(QStringLiteral("test_acc"));
        if (latency_ms < 0 || !acc.isDouble()) {
            unplotted << e.ref;
            continue;
        }
        points << VariantScatter::Point{e.ref, e.color, latency_ms, acc.toDouble(),
                                        e.benchmark.value(QStringLiteral("size_bytes"))
                                            .toDouble()};
    }
    m_scatter->setPlaceholderText(
        m_comparison.languageModels()
            ? tr("Language models have no test accuracy: their perplexity and generation "
                 "speed are in the cards and the table")
            : tr("No checked benchmark has both a test accuracy and a latency at batch %1")
                  .arg(b));
    m_scatter->setPoints(points, b);
    m_scatter->setToolTip(unplotted.isEmpty()
                              ? QString()
                              : tr("Not drawn (no accuracy or no latency at batch %1): %2")
                                    .arg(b).arg(unplotted.join(QStringLiteral(", "))));

    qDeleteAll(m_cards);
    m_cards.clear();
    const double baseLatency_ms = m_entries.isEmpty() ? -1.0 : p50At(m_entries[0].benchmark, b);
    for (int i = 0; i < m_entries.size(); ++i) {
        const Entry &e = m_entries[i];
        const ms::Comparison::Row &row = m_comparison.rows().at(i);
        const bool baseline = i == 0;
        QVector<VariantCard::Line> lines =
            e.benchmark.value(QStringLiteral("task")).toString() == QLatin1String("lm")
                ? languageModelLines(row, baseline)
                : classifierLines(row, e.benchmark, baseline, b, baseLatency_ms);

        const QJsonValue size = row.values.value(QStringLiteral("size_bytes"));
        lines << ratioLine(tr("Size"), bytesText(size),
                           baseline ? QJsonObject()
                                    : row.deltas.value(QStringLiteral("size_bytes")).toObject());
        const QJsonValue memory = row.values.value(QStringLiteral("peak_rss_delta_bytes"));
        VariantCard::Line mem = ratioLine(
            tr("Memory"), bytesText(memory),
            baseline ? QJsonObject()
                     : row.deltas.value(QStringLiteral("peak_rss_delta_bytes")).toObject());
        lines << mem;

        QStringList subtitle{row.values.value(QStringLiteral("kind")).toString()};
        const QString engine = row.values.value(QStringLiteral("engine")).toString();
        if (!engine.isEmpty() && engine != QLatin1String("-"))
            subtitle << engine;
        auto *card = new VariantCard(this);
        card->setContent(e.ref, subtitle.join(QStringLiteral(" · ")), e.color, baseline, lines);
        const QString memoryTip = tr("Memory: how much the resident set grew while loading and "
                                     "running this version (peak RSS minus RSS before it).");
        card->setToolTip(
            e.benchmark.value(QStringLiteral("task")).toString() == QLatin1String("lm")
                ? tr("Perplexity: exp of the validation loss per token, on the text the model "
                     "was trained on.\nGeneration: tokens/s at batch 1 with the key/value "
                     "cache, as generate and the server run it.\n")
                      + memoryTip
                : tr("Latency: median (p50) of one forward pass at batch %1.\n").arg(b)
                      + memoryTip);
        m_cardRow->insertWidget(m_cardRow->count() - 1, card);
        m_cards << card;
    }
    // Whole cards, never cut at the bottom; the scroll bar (many variants) below them.
    int cardHeight = 0;
    for (VariantCard *card : std::as_const(m_cards))
        cardHeight = std::max(cardHeight, card->sizeHint().height());
    m_cardScroll->setMinimumHeight(cardHeight + m_cardScroll->horizontalScrollBar()->sizeHint()
                                                    .height());
}

void VariantsView::showConfusion(const QStringList &refs)
{
    QItemSelection selection;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        if (refs.contains(m_comparison.rows().at(r).version))
            selection.select(m_model->index(r, 0),
                             m_model->index(r, m_model->columnCount() - 1));
    }
    // selectionChanged redraws the heat maps; clearing first makes it fire even when unchanged.
    m_table->selectionModel()->clearSelection();
    m_table->selectionModel()->select(selection, QItemSelectionModel::Select);
    refreshHeatmaps();
}

void VariantsView::refreshHeatmaps()
{
    QList<int> rows;
    for (const QModelIndex &index : m_table->selectionModel()->selectedRows())
        rows << index.row();
    std::sort(rows.begin(), rows.end());
    rows = rows.mid(0, kMaxHeatmaps);

    qDeleteAll(m_heatmaps);
    m_heatmaps.clear();
    for (int r : std::as_const(rows)) {
        const Entry &e = m_entries.at(r);
        if (!e.benchmark.contains(QStringLiteral("confusion_matrix")))
            continue;   // a language model, or a classifier scored without a test split
        QStringList classes;
        for (const QJsonValue &v : e.benchmark.value(QStringLiteral("class_names")).toArray())
            classes << v.toString();
        auto *map = new ConfusionHeatmap(this);
        map->setMatrix(e.ref, classes, matrixOf(e.benchmark));
        m_heatmapRow->addWidget(map, 1);
        m_heatmaps << map;
    }
    // One matrix always whole; the others beside it when there is room, else scrolled to.
    m_heatmapScroll->setMinimumWidth(
        m_heatmaps.isEmpty() ? 0
                             : m_heatmaps.first()->minimumSizeHint().width()
                                   + m_heatmapScroll->verticalScrollBar()->sizeHint().width());
    // Once the new matrices are laid out.
    QTimer::singleShot(0, this, [this] { balanceMiddle(); });
}

void VariantsView::balanceMiddle()
{
    const int total = m_middle->width() - m_middle->handleWidth();
    if (!isVisible() || total <= 0)
        return;
    const int wanted = m_heatmapScroll->widget()->minimumSizeHint().width()
                       + m_heatmapScroll->verticalScrollBar()->sizeHint().width();
    const int scatterMinimum = m_scatter->minimumSizeHint().width();
    // Half at least when the matrices need less, all they need when the scatter can spare it.
    const int heatmaps = std::max(m_heatmapScroll->minimumWidth(),
                                  std::min(std::max(wanted, total / 2), total - scatterMinimum));
    m_middle->setSizes({total - heatmaps, heatmaps});
}

void VariantsView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_balanced) {
        m_balanced = true;
        // Once the layout has given the splitter its width.
        QTimer::singleShot(0, this, [this] { balanceMiddle(); });
    }
}

void VariantsView::runBenchmarks()
{
    if (!m_runner || m_missing.isEmpty() || m_job != 0)
        return;
    ms::BenchmarkConfig config;   // the CLI's defaults, so results compare with its runs
    config.versions = m_missing;
    try {
        m_job = m_runner->start(std::make_unique<ms::BenchmarkJob>(m_workspace, config));
    } catch (const ms::Error &e) {
        m_jobMessage = e.message();
        setEntries(m_allEntries);
        return;
    }
    m_jobMessage.clear();
    m_benchButton->setEnabled(false);
}

QString VariantsView::hintText() const
{
    return m_hint->text();
}

QString VariantsView::warningText() const
{
    return m_warnings->text();
}

} // namespace ms::ui
