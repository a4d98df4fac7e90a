#include "panels/compare/DisagreementView.h"

#include "panels/compare/DisagreementModel.h"

#include "common/Error.h"
#include "explain/DisagreementJob.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QListView>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace ms::ui {

namespace {

constexpr int kThumb = 56; // a 28x28 picture at twice its size
constexpr int kCellWidth = 140;

// Draws one cell: the picture, then A's and B's prediction (green when right, red when wrong)
// and the true class. A delegate rather than a widget per cell: the grid may list thousands.
class DisagreementDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const override
    {
        return {kCellWidth, kThumb + 3 * option.fontMetrics.height() + 12};
    }

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override
    {
        painter->save();
        const QRect r = option.rect.adjusted(2, 2, -2, -2);
        const bool selected = option.state & QStyle::State_Selected;
        painter->setPen(selected ? option.palette.color(QPalette::Highlight)
                                 : QColor(0xd0, 0xd0, 0xd0));
        painter->setBrush(selected ? option.palette.color(QPalette::Highlight).lighter(170)
                                   : option.palette.color(QPalette::Base));
        painter->drawRect(r.adjusted(0, 0, -1, -1));
        const QRect picture(r.center().x() - kThumb / 2, r.top() + 4, kThumb, kThumb);
        const QImage image = index.data(Qt::DecorationRole).value<QImage>();
        if (!image.isNull())
            painter->drawImage(picture, image);
        else
            painter->fillRect(picture, QColor(0xee, 0xee, 0xee));

        const auto *model = static_cast<const DisagreementModel *>(index.model());
        const int label = index.data(DisagreementModel::LabelRole).toInt();
        const int lineHeight = option.fontMetrics.height();
        QRect line(r.left() + 4, picture.bottom() + 4, r.width() - 8, lineHeight);
        const auto draw = [&](const QString &text, const QColor &color, bool bold) {
            QFont font = option.font;
            font.setBold(bold);
            painter->setFont(font);
            painter->setPen(color);
            painter->drawText(line, Qt::AlignLeft | Qt::AlignVCenter,
                              QFontMetrics(font).elidedText(text, Qt::ElideRight, line.width()));
            line.translate(0, lineHeight);
        };
        draw(QObject::tr("#%1 true %2")
                 .arg(QString::number(index.data(DisagreementModel::SampleRole).toLongLong()),
                      model->classText(label)),
             option.palette.color(QPalette::Text), false);
        const QColor right(0x1b, 0x7a, 0x2e);
        const QColor wrong(0xb0, 0x20, 0x20);
        const int a = index.data(DisagreementModel::PredictionARole).toInt();
        const int b = index.data(DisagreementModel::PredictionBRole).toInt();
        draw(QStringLiteral("A %1 %2 %")
                 .arg(model->classText(a),
                      QString::number(
                          100.0 * index.data(DisagreementModel::ConfidenceARole).toDouble(), 'f',
                          0)),
             a == label ? right : wrong, false);
        draw(QStringLiteral("B %1 %2 %")
                 .arg(model->classText(b),
                      QString::number(
                          100.0 * index.data(DisagreementModel::ConfidenceBRole).toDouble(), 'f',
                          0)),
             b == label ? right : wrong, false);
        painter->restore();
    }
};

} // namespace

DisagreementView::DisagreementView(QWidget *parent)
    : QWidget(parent)
{
    m_a = new QComboBox(this);
    m_b = new QComboBox(this);
    m_a->setToolTip(tr("Version A (the cells' first prediction)"));
    m_b->setToolTip(tr("Version B (the cells' second prediction)"));
    m_find = new QPushButton(tr("Find disagreements"), this);
    m_find->setToolTip(tr("Run both versions over the test split and list the samples they "
                          "predict differently (modelstudio-cli disagree A B)"));
    connect(m_find, &QPushButton::clicked, this, &DisagreementView::findNow);
    for (QComboBox *combo : {m_a, m_b}) {
        connect(combo, &QComboBox::currentIndexChanged, this, [this] { updateButton(); });
        connect(combo, &QComboBox::activated, this, [this] { m_userChose = true; });
    }
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_model = new DisagreementModel(this);
    m_grid = new QListView(this);
    m_grid->setModel(m_model);
    m_grid->setViewMode(QListView::IconMode);
    m_grid->setMovement(QListView::Static);
    m_grid->setResizeMode(QListView::Adjust);
    m_grid->setUniformItemSizes(true);
    m_grid->setWrapping(true);
    m_grid->setSpacing(2);
    m_grid->setSelectionMode(QAbstractItemView::SingleSelection);
    m_grid->setItemDelegate(new DisagreementDelegate(m_grid));
    connect(m_grid, &QListView::activated, this, [this](const QModelIndex &index) {
        Q_EMIT tryRequested(index.data(DisagreementModel::SampleRole).toLongLong(),
                            {m_model->versionA(), m_model->versionB()}, m_model->source());
    });

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Where"), this));
    bar->addWidget(m_a);
    bar->addWidget(new QLabel(tr("and"), this));
    bar->addWidget(m_b);
    bar->addWidget(new QLabel(tr("disagree:"), this));
    bar->addWidget(m_find);
    bar->addWidget(m_summary, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_grid, 1);
    setVersions({});
}

void DisagreementView::setJobRunner(ms::JobRunner *runner, const QString &workspace)
{
    if (m_runner)
        disconnect(m_runner, nullptr, this, nullptr);
    m_runner = runner;
    m_workspace = workspace;
    if (runner)
        connect(runner, &ms::JobRunner::finished, this, &DisagreementView::onFinished);
    updateButton();
}

void DisagreementView::setVersions(const QStringList &refs)
{
    const QString keptA = m_a->currentText();
    const QString keptB = m_b->currentText();
    for (QComboBox *combo : {m_a, m_b}) {
        const QSignalBlocker block(combo);
        combo->clear();
        combo->addItems(refs);
    }
    // The user's pair while both are still checked; else the first and the last.
    if ((!m_userChose || !choose(keptA, keptB)) && refs.size() >= 2)
        choose(refs.first(), refs.last());
    // A grid of a pair no longer checked would answer for versions the user put away.
    if (m_job == 0 && m_model->rowCount() > 0
        && (!refs.contains(m_model->versionA()) || !refs.contains(m_model->versionB()))) {
        m_model->clear();
        m_summary->clear();
    }
    if (refs.size() < 2)
        m_summary->setText(tr("Check two versions of one dataset to see the test images they "
                              "predict differently."));
    updateButton();
}

bool DisagreementView::choose(const QString &a, const QString &b)
{
    const int at = m_a->findText(a);
    const int bt = m_b->findText(b);
    if (at < 0 || bt < 0 || a == b)
        return false;
    m_a->setCurrentIndex(at);
    m_b->setCurrentIndex(bt);
    return true;
}

void DisagreementView::updateButton()
{
    m_find->setEnabled(m_runner && m_job == 0 && m_a->count() >= 2
                       && m_a->currentText() != m_b->currentText());
}

bool DisagreementView::findNow()
{
    if (!m_runner || m_job != 0)
        return false;
    ms::DisagreementRequest request;
    request.a = m_a->currentText();
    request.b = m_b->currentText();
    if (request.a.isEmpty() || request.b.isEmpty() || request.a == request.b) {
        m_summary->setText(tr("Choose two different versions."));
        return false;
    }
    m_job = m_runner->start(std::make_unique<ms::DisagreementJob>(m_workspace, request));
    m_summary->setText(tr("Running %1 and %2 over the test split…").arg(request.a, request.b));
    updateButton();
    return true;
}

void DisagreementView::onFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_job)
        return;
    m_job = 0;
    updateButton();
    if (result.status != ms::JobStatus::Finished) {
        m_model->clear();
        m_summary->setText(result.message);
        Q_EMIT found(false);
        return;
    }
    const QJsonObject &out = result.output;
    m_model->setResult(out);
    const qint64 differ = m_model->rowCount();
    QString text =
        tr("%1 of %2 test samples of %3 differ; right only %4: %5, right only %6: %7.")
            .arg(QString::number(differ),
                 QString::number(out.value(QStringLiteral("count")).toInteger()),
                 out.value(QStringLiteral("dataset")).toString(), m_model->versionA(),
                 QString::number(out.value(QStringLiteral("only_a_correct")).toInteger()),
                 m_model->versionB(),
                 QString::number(out.value(QStringLiteral("only_b_correct")).toInteger()));
    const qsizetype pictures = out.value(QStringLiteral("thumbnails")).toArray().size();
    if (out.contains(QStringLiteral("thumbnails")) && pictures < differ)
        text += tr(" Pictures of the first %1.").arg(pictures);
    m_summary->setText(text);
    Q_EMIT found(true);
}

QString DisagreementView::summaryText() const
{
    return m_summary->text();
}

} // namespace ms::ui
