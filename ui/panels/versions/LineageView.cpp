#include "panels/versions/LineageView.h"


#include <QFontMetricsF>
#include <QGraphicsPathItem>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QMouseEvent>
#include <QPainterPath>

#include <algorithm>
#include <functional>

namespace ms::ui {

namespace {

constexpr double kNodeWidth = 132.0;      // the narrowest box
constexpr double kMaxNodeWidth = 220.0;   // longer titles are elided (whole in the tooltip)
constexpr double kNodeTextMargin = 8.0;
constexpr double kNodeHeight = 42.0;
constexpr double kColumnGap = 96.0;       // at least, between two columns
constexpr double kLabelPadding = 6.0;     // around an edge label's text, on its white patch
constexpr double kLabelSlide = 40.0;      // room for a label to move along its edge
constexpr double kRowGap = 18.0;
constexpr int kIdRole = 0;            // QGraphicsItem::data key holding the version id

const QColor kNodeFill(0xf4, 0xf7, 0xfc);
const QColor kNodeBorder(0x8a, 0x9b, 0xb5);
const QColor kOutsideFill(0xee, 0xee, 0xee);
const QColor kCurrentBorder(0x2b, 0x6c, 0xd4);
const QColor kEdgeColor(0x7a, 0x84, 0x92);

QString kindLabel(const ms::VersionRecord &v)
{
    QString text = ms::versionKindName(v.kind);
    const double acc = v.accuracy();
    if (acc >= 0)
        text += QStringLiteral(" · %1 %").arg(acc * 100.0, 0, 'f', 1);
    return text;
}

} // namespace

LineageView::LineageView(QWidget *parent)
    : QGraphicsView(parent)
{
    setScene(new QGraphicsScene(this));
    setRenderHint(QPainter::Antialiasing);
    setRenderHint(QPainter::TextAntialiasing);
    setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setBackgroundBrush(Qt::white);
    setMinimumHeight(120);
}

void LineageView::clear()
{
    scene()->clear();
    m_nodes.clear();
    m_edges.clear();
    m_labelRects.clear();
}

void LineageView::setMessage(const QString &text)
{
    clear();
    auto *item = scene()->addSimpleText(text);
    item->setBrush(QColor(140, 140, 140));
    scene()->setSceneRect(item->boundingRect().adjusted(-20, -20, 20, 20));
}

void LineageView::setLineage(const QVector<ms::VersionRecord> &versions,
                             const QVector<ms::LineageEdge> &edges)
{
    clear();
    QHash<qint64, ms::VersionKind> kinds;
    for (const ms::VersionRecord &v : versions) {
        Node node;
        node.id = v.id;
        node.title = QStringLiteral("v%1").arg(v.number);
        node.subtitle = kindLabel(v);
        node.tooltip = QStringLiteral("%1\n%2\n%3").arg(
            v.ref(), node.subtitle, v.created.toLocalTime().toString(Qt::ISODate));
        m_nodes.insert(v.id, node);
        kinds.insert(v.id, v.kind);
    }
    for (const ms::LineageEdge &e : edges) {
        // A parent (or child) of another model: a grey node named by its full reference.
        auto addOutside = [this](qint64 id, const QString &ref) {
            if (m_nodes.contains(id))
                return;
            Node node;
            node.id = id;
            node.title = ref;
            node.subtitle = tr("other model");
            node.tooltip = ref;
            node.outside = true;
            m_nodes.insert(id, node);
        };
        addOutside(e.parentId, e.parentRef);
        addOutside(e.childId, e.childRef);
        QString label = e.role;
        if ((label.isEmpty() || label == QLatin1String("source")) && kinds.contains(e.childId))
            label = ms::versionKindName(kinds.value(e.childId));
        m_edges.append(Edge{e.parentId, e.childId, label});
    }
    layout();
    draw();
}

// A layered ("Sugiyama-style") layout of our own: Qt has no graph layout, Graphviz would be a
// new dependency for a picture of a few dozen nodes, and lineage is a DAG whose natural reading
// is "generation N came from generation N-1". Column = longest path from a root; rows within a
// column follow the average row of the node's parents (one barycentre pass), ties by version.
void LineageView::layout()
{
    QHash<qint64, QVector<qint64>> parents;
    for (const Edge &e : std::as_const(m_edges))
        parents[e.childId].append(e.parentId);

    QHash<qint64, int> state;   // 0 unvisited, 1 visiting, 2 done: a corrupt cycle cannot hang
    std::function<int(qint64)> generation = [&](qint64 id) -> int {
        Node &node = m_nodes[id];
        if (state.value(id) == 2)
            return node.generation;
        if (state.value(id) == 1)
            return 0;
        state[id] = 1;
        int g = 0;
        for (qint64 p : parents.value(id))
            g = std::max(g, generation(p) + 1);
        node.generation = g;
        state[id] = 2;
        return g;
    };
    int columns = 0;
    for (auto it = m_nodes.begin(); it != m_nodes.end(); ++it)
        columns = std::max(columns, generation(it.key()) + 1);

    QVector<QVector<qint64>> byColumn(columns);
    for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it)
        byColumn[it->generation].append(it.key());
    for (int c = 0; c < columns; ++c) {
        QVector<qint64> &ids = byColumn[c];
        QHash<qint64, double> key;
        for (qint64 id : ids) {
            const QVector<qint64> ps = parents.value(id);
            double sum = 0.0;
            for (qint64 p : ps)
                sum += m_nodes.value(p).row;
            // Ids grow with version numbers, so roots read oldest first.
            key.insert(id, ps.isEmpty() ? double(id) : sum / double(ps.size()));
        }
        std::stable_sort(ids.begin(), ids.end(), [&](qint64 a, qint64 b) {
            return key.value(a) != key.value(b) ? key.value(a) < key.value(b) : a < b;
        });
        for (int r = 0; r < ids.size(); ++r)
            m_nodes[ids[r]].row = r;
    }
}

void LineageView::draw()
{
    QGraphicsScene *s = scene();
    const QFont base = font();
    QFont bold = base;
    bold.setBold(true);
    QFont small = base;
    small.setPointSizeF(base.pointSizeF() * 0.85);
    const QFontMetricsF boldMetrics(bold);
    const QFontMetricsF baseMetrics(base);
    const QFontMetricsF smallMetrics(small);

    // Boxes as wide as their text within bounds (an outside reference such as
    // "resnet18-finetuned-cifar:3" beyond that is elided in the middle, whole in the tooltip),
    // and columns far enough apart that the widest edge label fits between them with room to
    // slide along its edge.
    double textWidth = 0.0;
    for (const Node &node : std::as_const(m_nodes))
        textWidth = std::max({textWidth, boldMetrics.horizontalAdvance(node.title),
                              baseMetrics.horizontalAdvance(node.subtitle)});
    const double nodeWidth = std::clamp(textWidth + 2 * kNodeTextMargin, kNodeWidth,
                                        kMaxNodeWidth);
    double labelWidth = 0.0;
    for (const Edge &e : std::as_const(m_edges))
        labelWidth = std::max(labelWidth, smallMetrics.horizontalAdvance(e.label));
    const double columnGap = std::max(kColumnGap, labelWidth + kLabelPadding + kLabelSlide);
    auto topLeft = [&](const Node &n) {
        return QPointF(n.generation * (nodeWidth + columnGap), n.row * (kNodeHeight + kRowGap));
    };
    QVector<QRectF> obstacles;   // node boxes (with their outline), then each label placed
    for (const Node &node : std::as_const(m_nodes)) {
        obstacles << QRectF(topLeft(node), QSizeF(nodeWidth, kNodeHeight))
                         .adjusted(-2, -2, 2, 2);
    }

    m_labelRects.clear();
    for (const Edge &e : std::as_const(m_edges)) {
        const Node &from = m_nodes[e.parentId];
        const Node &to = m_nodes[e.childId];
        const QPointF start = topLeft(from) + QPointF(nodeWidth, kNodeHeight / 2);
        const QPointF end = topLeft(to) + QPointF(0, kNodeHeight / 2);
        QPainterPath path(start);
        const double bend = std::max(24.0, (end.x() - start.x()) / 2);
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end);
        auto *line = s->addPath(path, QPen(kEdgeColor, 1.4));
        line->setZValue(0);
        QPolygonF head;
        head << end << end + QPointF(-8, -4) << end + QPointF(-8, 4);
        s->addPolygon(head, QPen(kEdgeColor), QBrush(kEdgeColor))->setZValue(0);
        if (e.label.isEmpty())
            continue;
        const QSizeF size(smallMetrics.horizontalAdvance(e.label) + kLabelPadding,
                          smallMetrics.height() + 2);
        const QRectF rect = placeLabel(path, size, obstacles);
        obstacles << rect;
        m_labelRects << rect;
        auto *back = s->addRect(QRectF(QPointF(0, 0), size), Qt::NoPen,
                                QBrush(QColor(255, 255, 255, 230)));
        back->setPos(rect.topLeft());
        back->setZValue(1);
        auto *label = new QGraphicsSimpleTextItem(e.label, back);
        label->setFont(small);
        label->setBrush(QColor(0x4a, 0x52, 0x5e));
        label->setPos(kLabelPadding / 2, 1);
    }

    for (auto it = m_nodes.begin(); it != m_nodes.end(); ++it) {
        Node &node = *it;
        QPainterPath shape;
        shape.addRoundedRect(QRectF(0, 0, nodeWidth, kNodeHeight), 6, 6);
        auto *box = s->addPath(shape);
        box->setPos(topLeft(node));
        box->setZValue(2);
        box->setData(kIdRole, node.id);
        box->setToolTip(node.tooltip);
        box->setCursor(node.outside ? Qt::ArrowCursor : Qt::PointingHandCursor);
        const double room = nodeWidth - 2 * kNodeTextMargin;
        auto *title = new QGraphicsSimpleTextItem(
            boldMetrics.elidedText(node.title, Qt::ElideMiddle, room), box);
        title->setFont(bold);
        auto *sub = new QGraphicsSimpleTextItem(
            baseMetrics.elidedText(node.subtitle, Qt::ElideRight, room), box);
        sub->setBrush(QColor(0x55, 0x5d, 0x69));
        const double textHeight = title->boundingRect().height() + sub->boundingRect().height();
        const double top = std::max(2.0, (kNodeHeight - textHeight) / 2);
        title->setPos(kNodeTextMargin, top);
        sub->setPos(kNodeTextMargin, top + title->boundingRect().height());
        node.item = box;
        styleNode(node);
    }
    s->setSceneRect(s->itemsBoundingRect().adjusted(-16, -16, 16, 16));
}

// Where an edge's label goes: centred on the edge, at the middle if that is free, else at the
// first point further along either way that touches no node and no label placed before; when
// the edge is crowded everywhere (many edges through one gap), stacked just below or above its
// middle, clear of the others.
QRectF LineageView::placeLabel(const QPainterPath &path, const QSizeF &size,
                               const QVector<QRectF> &obstacles)
{
    auto centredAt = [&size](const QPointF &p) {
        return QRectF(p - QPointF(size.width() / 2, size.height() / 2), size);
    };
    auto isFree = [&obstacles](const QRectF &r) {
        return std::none_of(obstacles.cbegin(), obstacles.cend(),
                            [&r](const QRectF &o) { return o.intersects(r); });
    };
    for (const double t : {0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82}) {
        const QRectF r = centredAt(path.pointAtPercent(t));
        if (isFree(r))
            return r;
    }
    const QRectF middle = centredAt(path.pointAtPercent(0.5));
    for (int step = 1; step < 4 * int(obstacles.size()) + 4; ++step) {
        const double dy = (step + 1) / 2 * (size.height() + 1) * (step % 2 ? 1 : -1);
        const QRectF r = middle.translated(0, dy);
        if (isFree(r))
            return r;
    }
    return middle;   // unreachable: each step clears one more obstacle's height
}

void LineageView::styleNode(Node &node)
{
    auto *box = static_cast<QGraphicsPathItem *>(node.item);
    const bool current = node.id == m_current;
    box->setPen(QPen(current ? kCurrentBorder : kNodeBorder, current ? 2.5 : 1.0));
    box->setBrush(node.outside ? kOutsideFill : (current ? QColor(0xe3, 0xec, 0xfb) : kNodeFill));
}

void LineageView::setCurrentVersion(qint64 versionId)
{
    const qint64 previous = m_current;
    m_current = versionId;
    for (qint64 id : {previous, versionId}) {
        auto it = m_nodes.find(id);
        if (it != m_nodes.end() && it->item)
            styleNode(*it);
    }
    const auto it = m_nodes.constFind(versionId);
    if (it != m_nodes.cend() && it->item)
        ensureVisible(it->item, 24, 24);
}

int LineageView::generationOf(qint64 versionId) const
{
    const auto it = m_nodes.constFind(versionId);
    return it == m_nodes.cend() ? -1 : it->generation;
}

QPoint LineageView::nodeCenter(qint64 versionId) const
{
    const auto it = m_nodes.constFind(versionId);
    if (it == m_nodes.cend() || !it->item)
        return {};
    return mapFromScene(it->item->sceneBoundingRect().center());
}

QRectF LineageView::nodeRect(qint64 versionId) const
{
    const auto it = m_nodes.constFind(versionId);
    return it == m_nodes.cend() || !it->item ? QRectF() : it->item->sceneBoundingRect();
}

void LineageView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        for (QGraphicsItem *item : items(event->position().toPoint())) {
            // Text and labels sit on top of the node box: walk up to the item with the id.
            for (QGraphicsItem *i = item; i; i = i->parentItem()) {
                const QVariant id = i->data(kIdRole);
                if (id.isValid()) {
                    const qint64 versionId = id.toLongLong();
                    if (!m_nodes.value(versionId).outside) {
                        Q_EMIT versionClicked(versionId);
                        event->accept();
                        return;
                    }
                }
            }
        }
    }
    QGraphicsView::mousePressEvent(event);
}

} // namespace ms::ui
