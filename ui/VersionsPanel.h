#pragma once

#include "Panel.h"

#include <QString>

class QAction;
class QLabel;
class QLineEdit;
class QMenu;
class QPlainTextEdit;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;

namespace ms::ui {

class VersionTableModel;

// Every version of every model in a sortable, filterable table (model/view: fast with 10,000
// versions), the selected version's full record beside it, and the actions on a version: Serve
// (asks the window to serve it at once, see serveRequested), Export (a TorchScript file with a
// README, a TorchServe archive or a Triton model repository, through ExporterRegistry) and
// Delete….
class VersionsPanel final : public Panel
{
    Q_OBJECT

    enum class Tone { Neutral, Success, Warning, Error };

public:
    explicit VersionsPanel(QString workspace, QWidget *parent = nullptr);
    ~VersionsPanel() override;

    QString id() const override { return QStringLiteral("versions"); }
    QString title() const override { return tr("Versions"); }
    QIcon icon() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    // Re-reads the registry, keeping the selection when the version still exists.
    void reload();
    // Selects the version with that reference ("name:N"); false when it is not listed (or is
    // filtered out).
    bool selectRef(const QString &ref);
    QString selectedRef() const;

    // Exports the selected version's verified artifact to `path` in `format` ("pt",
    // "torchserve", "triton": any name ExporterRegistry knows); the exporter writes temporary
    // files and renames them, so a failure leaves nothing half-written.
    bool exportSelected(const QString &path, const QString &format = QStringLiteral("pt"));
    // Removes the selected version after a confirmation (unless turned off, for tests).
    bool deleteSelected();
    void setConfirmDeletes(bool confirm) { m_confirmDeletes = confirm; }

    QString statusText() const { return m_statusPlain; }
    bool statusIsError() const { return m_statusTone == Tone::Error; }

    VersionTableModel *tableModel() const { return m_model; }
    QSortFilterProxyModel *proxyModel() const { return m_proxy; }
    QTableView *tableView() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filter; }
    QPlainTextEdit *detailView() const { return m_detail; }
    QAction *serveAction() const { return m_serveAction; }
    QAction *exportAction() const { return m_exportAction; }
    QMenu *exportMenu() const { return m_exportMenu; }
    QAction *deleteAction() const { return m_deleteAction; }
    QAction *reloadAction() const { return m_reloadAction; }

Q_SIGNALS:
    // The user asked to serve `ref` ("name:N"): the window shows the Serve panel and serves it.
    void serveRequested(const QString &ref);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void createActions();
    void updateDetail();
    void updateActions();
    void updateCount();
    void showContextMenu(const QPoint &pos);
    void chooseExportPath(const QString &format);
    qint64 selectedId() const;
    void setStatus(const QString &text, Tone tone);

    QString m_workspace;
    bool m_confirmDeletes = true;

    VersionTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_count = nullptr;
    QPlainTextEdit *m_detail = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_status = nullptr;
    QString m_statusPlain;
    Tone m_statusTone = Tone::Neutral;

    QAction *m_serveAction = nullptr;
    QAction *m_exportAction = nullptr;
    QMenu *m_exportMenu = nullptr;
    QAction *m_deleteAction = nullptr;
    QAction *m_reloadAction = nullptr;
};

} // namespace ms::ui
