#include "common/ModelSummaryView.h"

#include "common/Format.h"
#include "common/StatusLine.h"
#include "common/LayerTableModel.h"

#include <QHeaderView>
#include <QLabel>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace ms::ui {

ModelSummaryView::ModelSummaryView(QWidget *parent)
    : QWidget(parent)
    , m_model(new LayerTableModel(this))
    , m_stack(new QStackedWidget(this))
    , m_table(new QTableView(this))
    , m_message(new QLabel(this))
    , m_totals(new QLabel(this))
{
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    QHeaderView *header = m_table->horizontalHeader();
    header->setHighlightSections(false);
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(LayerTableModel::OutputColumn, QHeaderView::Stretch);

    m_message->setWordWrap(true);
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setMargin(12);

    m_stack->addWidget(m_table);
    m_stack->addWidget(m_message);

    m_totals->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_totals->setWordWrap(true);
    QPalette muted = m_totals->palette();
    muted.setColor(QPalette::WindowText, QColor(90, 90, 90));
    m_totals->setPalette(muted);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_stack, 1);
    layout->addWidget(m_totals);
}

void ModelSummaryView::showSummary(const ms::ModelSummary &summary, const QString &note)
{
    m_hasError = false;
    m_model->setSummary(summary);
    m_stack->setCurrentWidget(m_table);
    const int layers = int(summary.layers.size());
    // Negative MACs: a model whose computation the summary could not count (control flow).
    QString totals = (layers == 1 ? tr("1 layer") : tr("%1 layers").arg(layers))
                     + tr(" · %1 parameters · %2")
                           .arg(formatCount(summary.totalParams),
                                summary.totalMacs >= 0
                                    ? tr("%1 MACs per sample")
                                          .arg(formatCompact(double(summary.totalMacs)))
                                    : tr("MACs not countable"));
    if (!note.isEmpty())
        totals += QStringLiteral("\n") + note;
    m_totals->setText(totals);
}

void ModelSummaryView::showMessage(const QString &text)
{
    m_hasError = false;
    m_model->clear();
    m_message->setStyleSheet(QStringLiteral("color: #666;"));
    m_message->setText(text);
    m_stack->setCurrentWidget(m_message);
    m_totals->clear();
}

void ModelSummaryView::showError(const QString &text)
{
    m_hasError = true;
    m_model->clear();
    setTone(m_message, Tone::Error);
    m_message->setText(text);
    m_stack->setCurrentWidget(m_message);
    m_totals->clear();
}

QString ModelSummaryView::messageText() const
{
    return m_stack->currentWidget() == m_message ? m_message->text() : QString();
}

QString ModelSummaryView::totalsText() const
{
    return m_totals->text();
}

} // namespace ms::ui
