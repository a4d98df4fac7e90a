#pragma once

#include "registry/ModelImport.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;

namespace ms::ui {

// File › Import model…: the file, the model it joins, an example input shape (Python exports
// record none) and dtype (float32, or int64/int32 for token ids), the normalisation the network expects (mean and std per channel, folded into
// the registered model), its class names and notes. Checks what it can cheaply before closing (the file exists, the name
// is valid, the shape parses); loading and test-running the model happens in an ImportJob.
class ImportDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit ImportDialog(QWidget *parent = nullptr);

    void setPath(const QString &path);
    ms::ImportOptions options() const;
    QComboBox *dtypeBox() const { return m_dtype; }
    QLineEdit *meanEdit() const { return m_mean; }
    QLineEdit *stdEdit() const { return m_std; }
    QLineEdit *classesEdit() const { return m_classes; }
    QString errorText() const;

    // "1,1,28,28" -> {1, 1, 28, 28}; empty text -> empty shape. Throws ms::Error on anything
    // but positive integers separated by commas. (The CLI's parser lives in app/, which ui/
    // cannot use; this is its twin for a text field.)
    static std::vector<qint64> parseShape(const QString &text);

    void accept() override;

private:
    void browse();
    // The Mean, Std and Classes fields into `options`; throws ms::Error naming the field.
    void readPreprocessing(ms::ImportOptions &options) const;
    void showError(const QString &text);

    QLineEdit *m_path = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_shape = nullptr;
    QComboBox *m_dtype = nullptr;
    QLineEdit *m_mean = nullptr;
    QLineEdit *m_std = nullptr;
    QLineEdit *m_classes = nullptr;
    QLineEdit *m_notes = nullptr;
    QLabel *m_error = nullptr;
    bool m_nameEdited = false;
};

} // namespace ms::ui
