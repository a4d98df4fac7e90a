#include "panels/versions/VersionLayersView.h"

#include "common/Format.h"
#include "common/ModelSummaryView.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "export/ExportSupport.h"
#include "models/ModelLayers.h"

#include <QLabel>
#include <QThread>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>
#include <memory>

namespace ms::ui {

namespace {

// The classes and the preprocessing, above the layers.
QString infoText(const ms::VersionRecord &v)
{
    constexpr int kShownClasses = 12;
    QString classes = v.classNames.isEmpty()
                          ? QObject::tr("not named")
                          : QStringList(v.classNames.mid(0, kShownClasses))
                                .join(QStringLiteral(", "));
    if (v.classNames.size() > kShownClasses)
        classes += QStringLiteral(", …");
    QString text = QObject::tr("Classes (%1): %2")
                       .arg(v.outputs.isEmpty() || v.outputs.first().shape.size() != 2
                                ? QString::number(v.classNames.size())
                                : QString::number(v.outputs.first().shape.back()),
                            classes);
    if (!v.inputs.isEmpty())
        text += QObject::tr("\nInput %1, output %2")
                    .arg(shapeText(v.inputs.first().shape, ShapeStyle::Window),
                         v.outputs.isEmpty() ? QStringLiteral("—")
                                             : shapeText(v.outputs.first().shape, ShapeStyle::Window));
    text += QObject::tr("\nPreprocessing: %1").arg(ms::exportsupport::inputContract(v).sentence);
    return text;
}

struct Outcome
{
    ms::ModelSummary summary;
    QString error;
};

} // namespace

VersionLayersView::VersionLayersView(QString workspace, QWidget *parent)
    : QWidget(parent)
    , m_workspace(std::move(workspace))
    , m_info(new QLabel(this))
    , m_summary(new ModelSummaryView(this))
{
    m_info->setWordWrap(true);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_info);
    layout->addWidget(m_summary, 1);
    clear();
}

void VersionLayersView::clear()
{
    m_version = ms::VersionRecord{};
    ++m_generation;
    m_loaded = false;
    m_loading = false;
    m_info->clear();
    m_summary->showMessage(tr("Select a version to see its layers."));
}

void VersionLayersView::setVersion(const ms::VersionRecord &version)
{
    if (version.id == m_version.id && version.sha256 == m_version.sha256) {
        m_version = version;
        m_info->setText(infoText(version));
        return;
    }
    m_version = version;
    ++m_generation;
    m_loaded = false;
    m_loading = false;
    m_info->setText(infoText(version));
    m_summary->showMessage(tr("The layers are read when this tab shows."));
}

void VersionLayersView::load()
{
    if (m_version.id == 0 || m_loaded || m_loading)
        return;
    std::vector<qint64> shape;
    QString dtype = QStringLiteral("float32");
    if (!m_version.inputs.isEmpty() && m_version.inputs.first().shape.size() > 1) {
        const ms::TensorSignature &input = m_version.inputs.first();
        // Token ids: run at the example's length when the sequence is dynamic.
        const std::vector<qint64> runnable =
            input.isInteger() ? input.runnableShape() : input.shape;
        shape.assign(runnable.begin() + 1, runnable.end());
        if (input.isInteger())
            dtype = input.dtype;
    }
    if (shape.empty() || std::any_of(shape.begin(), shape.end(), [](qint64 d) { return d < 1; })) {
        m_loaded = true;
        m_summary->showError(tr("%1 records no fixed input shape, which one forward pass needs: "
                                "import it again with --input-shape.").arg(m_version.ref()));
        Q_EMIT loaded();
        return;
    }
    m_loading = true;
    m_summary->showMessage(tr("Loading %1 and running it once…").arg(m_version.ref()));
    // Loading a large model and running it takes a moment: on a thread of its own, with its
    // own Registry (a Qt SQL connection belongs to one thread). The result comes back queued
    // to this object; dropped when another version was chosen meanwhile, never delivered when
    // this view is gone (the connection ends with it).
    auto outcome = std::make_shared<Outcome>();
    const QString workspace = m_workspace;
    const qint64 id = m_version.id;
    QThread *thread = QThread::create([outcome, workspace, id, shape, dtype] {
        try {
            const ms::Registry registry(workspace);
            outcome->summary = ms::summarizeArtifact(
                registry.verifiedArtifactPath(registry.version(id)), shape, dtype);
        } catch (const ms::Error &e) {
            outcome->error = e.message();
        } catch (const std::exception &e) {
            outcome->error = QString::fromUtf8(e.what());
        }
    });
    const quint64 generation = m_generation;
    connect(thread, &QThread::finished, this, [this, outcome, generation] {
        if (generation != m_generation)
            return;
        m_loading = false;
        m_loaded = true;
        if (outcome->error.isEmpty())
            m_summary->showSummary(outcome->summary,
                                   tr("One forward pass of a zero sample of %1")
                                       .arg(shapeText(outcome->summary.inputShape, ShapeStyle::Window)));
        else
            m_summary->showError(outcome->error);
        Q_EMIT loaded();
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

} // namespace ms::ui
