#include "shell/StudioSettings.h"

#include <QSettings>

namespace ms::ui::StudioSettings {

namespace {
const QString kWorkspace = QStringLiteral("studio/workspace");
const QString kThreads = QStringLiteral("studio/computeThreads");
} // namespace

QString workspace()
{
    return QSettings().value(kWorkspace).toString();
}

void setWorkspace(const QString &path)
{
    QSettings().setValue(kWorkspace, path);
}

int computeThreads()
{
    return qMax(0, QSettings().value(kThreads, 0).toInt());
}

void setComputeThreads(int threads)
{
    QSettings().setValue(kThreads, qMax(0, threads));
}

} // namespace ms::ui::StudioSettings
