#pragma once

#include "registry/Registry.h"

#include <QGraphicsView>
#include <QHash>
#include <QString>
#include <QVector>

class QGraphicsItem;
class QPainterPath;

namespace ms::ui {

// Which version came from which, by what: the lineage of one model drawn left to right by
// generation. Nodes are versions (and the outside parents they came from, e.g. a teacher of
// another model), edges are labelled by how the child was made. Clicking a node emits
// versionClicked, which the Versions panel turns into selecting that row.
class LineageView final : public QGraphicsView
{
    Q_OBJECT

public:
    struct Edge
    {
        qint64 parentId = 0;
        qint64 childId = 0;
        QString label;   // the role, or the child's kind for a plain "source" edge
    };

    explicit LineageView(QWidget *parent = nullptr);

    // `versions` are the nodes (listing detail is enough); `edges` may name parents outside
    // them, which become grey nodes of their own.
    void setLineage(const QVector<ms::VersionRecord> &versions,
                    const QVector<ms::LineageEdge> &edges);
    void clear();
    // Outlines that version's node (0: none) and scrolls it into view.
    void setCurrentVersion(qint64 versionId);
    qint64 currentVersion() const { return m_current; }
    // A line of text centred in the empty view.
    void setMessage(const QString &text);

    int nodeCount() const { return int(m_nodes.size()); }
    QVector<Edge> edges() const { return m_edges; }
    // The generation (column) of a node, -1 when it is not drawn.
    int generationOf(qint64 versionId) const;
    // The node's centre in viewport coordinates, for tests that click it.
    QPoint nodeCenter(qint64 versionId) const;
    // In scene coordinates: a node's box, and the patch of each edge label drawn.
    QRectF nodeRect(qint64 versionId) const;
    QVector<QRectF> edgeLabelRects() const { return m_labelRects; }

Q_SIGNALS:
    void versionClicked(qint64 versionId);

protected:
    void mousePressEvent(QMouseEvent *event) override;

private:
    struct Node
    {
        qint64 id = 0;
        QString title;     // "v3" or "other:2" for an outside parent
        QString subtitle;  // "quantized · 91.2 %"
        QString tooltip;
        bool outside = false;
        int generation = 0;
        int row = 0;
        QGraphicsItem *item = nullptr;
    };

    void layout();
    void draw();
    void styleNode(Node &node);
    static QRectF placeLabel(const QPainterPath &path, const QSizeF &size,
                             const QVector<QRectF> &obstacles);

    QHash<qint64, Node> m_nodes;
    QVector<Edge> m_edges;
    QVector<QRectF> m_labelRects;
    qint64 m_current = 0;
};

} // namespace ms::ui
