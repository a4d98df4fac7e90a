#pragma once

#include "models/ArchSpec.h"

#include <QWidget>

class QLabel;
class QStackedWidget;
class QTableView;

namespace ms::ui {

class LayerTableModel;

// A model's layers as a table, with its totals underneath. When there is no summary to show
// (bad spec, unreadable dataset, still reading) the table gives way to a message, so an error
// is read where the summary would have been instead of crashing or failing silently.
class ModelSummaryView final : public QWidget
{
    Q_OBJECT

public:
    explicit ModelSummaryView(QWidget *parent = nullptr);

    // `note` says where the input shape comes from ("input 1×28×28, 10 classes").
    void showSummary(const ms::ModelSummary &summary, const QString &note = QString());
    // Neutral text (e.g. "Reading the dataset…").
    void showMessage(const QString &text);
    void showError(const QString &text);

    bool hasError() const { return m_hasError; }
    QString messageText() const;          // the error or message, empty while a table shows
    QString totalsText() const;
    QTableView *tableView() const { return m_table; }
    LayerTableModel *layerModel() const { return m_model; }

private:
    LayerTableModel *m_model = nullptr;
    QStackedWidget *m_stack = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_message = nullptr;
    QLabel *m_totals = nullptr;
    bool m_hasError = false;
};

} // namespace ms::ui
