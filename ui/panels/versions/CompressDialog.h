#pragma once

#include <QDialog>
#include <QHash>
#include <QJsonObject>
#include <QStringList>

class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QWidget;

namespace ms::ui {

// "Compress…" on a version: a compression method (CompressionRegistry), a form made from its
// CompressParameter list (so a plugin's method gets its fields without an edit here), the new
// model's name and an optional dataset. OK builds the CompressJob spec the way the CLI does
// (CompressJob::makeSpec) and runs the job's own checks before any work
// (CompressJob::preflight); a refusal shows in the dialog, which stays open to be corrected.
// The caller runs acceptedSpec() as a job.
class CompressDialog final : public QDialog
{
    Q_OBJECT

public:
    // `sourceRef` is the version to compress ("name:N"), `sourceModel` its model's name (the
    // default new name); `versionRefs` fill the fields that take a version (a student).
    CompressDialog(QString workspace, QString sourceRef, const QString &sourceModel,
                   QStringList versionRefs, QWidget *parent = nullptr);

    // Selects a method by name; false when no such method is registered.
    bool setMethod(const QString &name);
    QString methodName() const;
    // The field of the selected method's parameter `name` (QDoubleSpinBox, QSpinBox, QComboBox
    // or QLineEdit), nullptr when the method has no such parameter.
    QWidget *field(const QString &name) const { return m_fields.value(name); }
    QStringList fieldNames() const { return m_order; }
    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *datasetEdit() const { return m_dataset; }
    QDialogButtonBox *buttons() const { return m_buttons; }

    // The values of the fields, keyed by parameter name; empty texts left out (defaults).
    QJsonObject params() const;
    // The CompressJob spec of the fields. Throws ms::Error when a value is refused.
    QJsonObject spec() const;
    // The spec of the last accepted OK (empty before).
    QJsonObject acceptedSpec() const { return m_accepted; }
    // The refusal shown in the dialog ("" when none).
    QString errorText() const;

    void accept() override;

private:
    void rebuildForm();
    void showError(const QString &text);

    QString m_workspace;
    QString m_sourceRef;
    QStringList m_versionRefs;
    QJsonObject m_accepted;

    QComboBox *m_method = nullptr;
    QLabel *m_description = nullptr;
    QWidget *m_formHost = nullptr;
    QFormLayout *m_form = nullptr;
    QHash<QString, QWidget *> m_fields;
    QStringList m_order;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_dataset = nullptr;
    QLabel *m_error = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace ms::ui
