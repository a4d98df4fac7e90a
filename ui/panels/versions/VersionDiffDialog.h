#pragma once

#include "registry/Registry.h"

#include <QDialog>

class QCheckBox;
class QTableWidget;

namespace ms::ui {

// Two versions side by side (ms::diffVersions, the comparison `modelstudio-cli diff` prints):
// the record's fields, every metric, and the recipe settings that differ, with B − A where both
// are numbers. Rows that differ are tinted; "Only differences" hides the others.
class VersionDiffDialog final : public QDialog
{
    Q_OBJECT

public:
    VersionDiffDialog(const ms::VersionRecord &a, const ms::VersionRecord &b,
                      QWidget *parent = nullptr);

    QTableWidget *table() const { return m_table; }
    QCheckBox *onlyDifferencesCheck() const { return m_onlyDifferences; }
    // The row of a field ("params", "metrics.val_acc", "recipe.lr"), -1 when not listed.
    int rowOf(const QString &field) const;

private:
    void applyFilter();

    QTableWidget *m_table = nullptr;
    QCheckBox *m_onlyDifferences = nullptr;
};

} // namespace ms::ui
