#include "panels/versions/VersionDiffDialog.h"

#include "common/Format.h"

#include "registry/VersionDiff.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ms::ui {

namespace {

constexpr int kFieldRole = Qt::UserRole + 1;
constexpr int kSameRole = Qt::UserRole + 2;

bool isAccuracy(const QString &field)
{
    return field.startsWith(QLatin1String("metrics.")) && field.endsWith(QLatin1String("acc"));
}

QString signatureText(const QJsonValue &json)
{
    return formatSignature(ms::signatureFromJson(json.toArray()));
}

// One side's value in words, the way the rest of the window writes it.
QString cellText(const ms::VersionDiffField &f, const QJsonValue &value)
{
    if (value.isUndefined() || value.isNull())
        return QStringLiteral("—");
    if (f.field == QLatin1String("params"))
        return formatCount(value.toInteger());
    if (f.field == QLatin1String("size"))
        return formatSize(value.toInteger());
    if (f.field == QLatin1String("sha256"))
        return value.toString().left(12);
    if (f.field == QLatin1String("inputs") || f.field == QLatin1String("outputs"))
        return signatureText(value);
    if (f.field == QLatin1String("recipe"))
        return value.toObject().isEmpty() ? QStringLiteral("—") : QObject::tr("(same)");
    // A recipe setting reads as it was written ("0.0001"), not rounded.
    if (value.isDouble() && f.section == ms::VersionDiffField::Section::Recipe)
        return QString::number(value.toDouble(), 'g', 12);
    if (value.isDouble())
        return isAccuracy(f.field) ? QStringLiteral("%1 %").arg(value.toDouble() * 100, 0, 'f', 2)
                                   : formatValue(value.toDouble());
    if (value.isString())
        return value.toString();
    if (value.isBool())
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    const QJsonDocument doc = value.isArray() ? QJsonDocument(value.toArray())
                                              : QJsonDocument(value.toObject());
    return QString::fromUtf8(doc.toJson(QJsonDocument::Compact));
}

QString deltaText(const ms::VersionDiffField &f)
{
    if (f.delta) {
        const double d = *f.delta;
        const QString sign = d > 0 ? QStringLiteral("+") : QString();
        if (isAccuracy(f.field))
            return sign + QStringLiteral("%1 pp").arg(d * 100.0, 0, 'f', 2);
        if (f.field == QLatin1String("size"))
            return sign + (d < 0 ? QStringLiteral("−") : QString())
                   + formatSize(qint64(std::abs(d)));
        if (f.field == QLatin1String("params"))
            return sign + formatCount(qint64(d));
        return sign + formatValue(d);
    }
    return f.same ? QObject::tr("same") : QObject::tr("differs");
}

} // namespace

VersionDiffDialog::VersionDiffDialog(const ms::VersionRecord &a, const ms::VersionRecord &b,
                                     QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("%1 ↔ %2").arg(a.ref(), b.ref()));
    const QVector<ms::VersionDiffField> fields = ms::diffVersions(a, b);

    m_table = new QTableWidget(int(fields.size()), 4, this);
    m_table->setHorizontalHeaderLabels({tr("Field"), a.ref(), b.ref(), tr("B − A")});
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setStretchLastSection(true);
    const QColor differs(0xff, 0xf4, 0xd6);
    int differences = 0;
    for (int row = 0; row < fields.size(); ++row) {
        const ms::VersionDiffField &f = fields.at(row);
        const QString texts[] = {f.field, cellText(f, f.a), cellText(f, f.b), deltaText(f)};
        for (int column = 0; column < 4; ++column) {
            auto *item = new QTableWidgetItem(texts[column]);
            item->setToolTip(texts[column]);
            if (!f.same)
                item->setBackground(differs);
            if (column == 3 && f.delta)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(row, column, item);
        }
        m_table->item(row, 0)->setData(kFieldRole, f.field);
        m_table->item(row, 0)->setData(kSameRole, f.same);
        differences += f.same ? 0 : 1;
    }
    m_table->resizeColumnsToContents();
    for (int column = 1; column < 3; ++column)
        m_table->setColumnWidth(column, std::min(m_table->columnWidth(column), 280));

    m_onlyDifferences = new QCheckBox(tr("Only differences (%1 of %2 fields)")
                                          .arg(differences).arg(fields.size()),
                                      this);
    connect(m_onlyDifferences, &QCheckBox::toggled, this, &VersionDiffDialog::applyFilter);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_onlyDifferences);
    layout->addWidget(m_table, 1);
    layout->addWidget(buttons);
    resize(780, 520);
}

int VersionDiffDialog::rowOf(const QString &field) const
{
    for (int row = 0; row < m_table->rowCount(); ++row) {
        if (m_table->item(row, 0)->data(kFieldRole).toString() == field)
            return row;
    }
    return -1;
}

void VersionDiffDialog::applyFilter()
{
    const bool only = m_onlyDifferences->isChecked();
    for (int row = 0; row < m_table->rowCount(); ++row)
        m_table->setRowHidden(row, only && m_table->item(row, 0)->data(kSameRole).toBool());
}

} // namespace ms::ui
