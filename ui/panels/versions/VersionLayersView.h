#pragma once

#include "registry/Registry.h"

#include <QWidget>

class QLabel;

namespace ms::ui {

class ModelSummaryView;

// The Versions panel's Layers tab: what the selected version is inside. For a model imported
// from Python that is its submodules (parameters, output shapes from one forward pass of a zero
// sample, MACs where they can be counted; core models/ModelLayers.h), for a studio model its
// spec's layers; above them its classes and the preprocessing its input signature records.
// The model is loaded and run on a worker thread, once per version, when load() is called
// (the pane calls it when the tab shows).
class VersionLayersView final : public QWidget
{
    Q_OBJECT

public:
    explicit VersionLayersView(QString workspace, QWidget *parent = nullptr);

    void setVersion(const ms::VersionRecord &version);
    void clear();
    // Starts describing the current version unless it is described or being described.
    void load();
    bool isLoading() const { return m_loading; }

    QLabel *infoLabel() const { return m_info; }
    ModelSummaryView *summaryView() const { return m_summary; }

Q_SIGNALS:
    // The layers of the current version are shown (or why they cannot be).
    void loaded();

private:
    QString m_workspace;
    ms::VersionRecord m_version;
    quint64 m_generation = 0;   // a result for an older selection is dropped
    bool m_loaded = false;
    bool m_loading = false;
    QLabel *m_info = nullptr;
    ModelSummaryView *m_summary = nullptr;
};

} // namespace ms::ui
