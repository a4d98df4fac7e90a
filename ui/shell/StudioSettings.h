#pragma once

#include <QString>

namespace ms::ui {

// The studio-wide preferences File › Settings… edits, in QSettings ("studio/..."). Panels keep
// their own layout in their own groups (Panel::saveState).
namespace StudioSettings {

// The workspace the window opens when neither --workspace nor $MODELSTUDIO_WORKSPACE names one;
// empty for the default. Open workspace… and Settings… set it.
QString workspace();
void setWorkspace(const QString &path);

// CPU threads for new training runs (0 = all cores): the Train form starts from it.
int computeThreads();
void setComputeThreads(int threads);

} // namespace StudioSettings
} // namespace ms::ui
