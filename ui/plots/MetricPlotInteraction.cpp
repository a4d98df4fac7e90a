// MetricPlot's interaction with the user: hover values, the context menu, image export. Split
// from MetricPlot.cpp (the data path: series, batches, ranges, replot timer) by feature.
#include "plots/MetricPlot.h"

#include "common/Format.h"

#include <qcustomplot.h>

#include <QCursor>
#include <QDir>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QSvgGenerator>
#include <QToolTip>

#include <cmath>

namespace ms::ui {

namespace {

// A hover further than this from every point shows nothing.
constexpr double kHoverRadius_px = 32.0;

} // namespace

void MetricPlot::onMouseMove(QMouseEvent *event)
{
    if (event->buttons() != Qt::NoButton)
        return;   // dragging: the tooltip would only flicker
    const QPointF pos = event->position();
    const double x = m_plot->xAxis->pixelToCoord(pos.x());

    const Series *best = nullptr;
    QCPGraph *bestGraph = nullptr;
    double bestKey = 0.0;
    double bestDistance = kHoverRadius_px;
    for (const QString &id : m_order) {
        const Series &series = *m_series.constFind(id);
        // Both curves of a smoothed series can be pointed at: the trend and the raw spikes.
        for (QCPGraph *graph : {series.smooth, series.raw}) {
            if (!graph || !graph->visible() || graph->data()->isEmpty())
                continue;
            const auto data = graph->data();
            const auto consider = [&](QCPGraphDataContainer::const_iterator it) {
                const double px = m_plot->xAxis->coordToPixel(it->key);
                const double py = m_plot->yAxis->coordToPixel(it->value);
                const double distance = std::hypot(px - pos.x(), py - pos.y());
                if (distance < bestDistance) {
                    bestDistance = distance;
                    best = &series;
                    bestGraph = graph;
                    bestKey = it->key;
                }
            };
            // The nearest point in x is the first one at or after the cursor, or the one before.
            const auto after = data->findBegin(x, false);
            if (after != data->constEnd())
                consider(after);
            if (after != data->constBegin())
                consider(after - 1);
        }
    }

    if (!best) {
        if (m_tracer->visible()) {
            m_tracer->setVisible(false);
            m_plot->layer(QStringLiteral("overlay"))->replot();
        }
        QToolTip::hideText();
        return;
    }
    m_tracer->setGraph(bestGraph);
    m_tracer->setGraphKey(bestKey);
    m_tracer->setPen(QPen(bestGraph->pen().color(), 1.5));
    m_tracer->setBrush(QBrush(Qt::white));
    m_tracer->setVisible(true);
    m_plot->layer(QStringLiteral("overlay"))->replot();

    const QString xName = m_plot->xAxis->label().isEmpty() ? QStringLiteral("x")
                                                           : m_plot->xAxis->label();
    const auto raw = best->raw->data()->findBegin(bestKey, false);
    QString text = QStringLiteral("<b>%1</b><br>%2 %3: %4")
                       .arg(best->label.toHtmlEscaped(), xName.toHtmlEscaped(),
                            formatValue(bestKey), formatValue(raw->value));
    if (best->smooth) {
        const auto smooth = best->smooth->data()->findBegin(bestKey, false);
        text += QStringLiteral("<br>smoothed: %1").arg(formatValue(smooth->value));
    }
    QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
}

bool MetricPlot::exportImage(const QString &path, QString *error)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QString partial = path + QStringLiteral(".part");
    QFile::remove(partial);
    auto fail = [&](const QString &why) {
        QFile::remove(partial);
        if (error)
            *error = why;
        return false;
    };
    replotNow();   // the file shows what is on screen now, not what was drawn 50 ms ago
    const int width = m_plot->width();
    const int height = m_plot->height();
    bool written = false;
    if (suffix == QLatin1String("png")) {
        // Twice the pixels: the picture stays sharp in a document or a slide.
        written = m_plot->savePng(partial, width, height, 2.0);
    } else if (suffix == QLatin1String("pdf")) {
        written = m_plot->savePdf(partial, width, height);
    } else if (suffix == QLatin1String("svg")) {
        // QCustomPlot has no SVG writer of its own; it paints on any QPaintDevice.
        QSvgGenerator generator;
        generator.setFileName(partial);
        generator.setSize(QSize(width, height));
        generator.setViewBox(QRect(0, 0, width, height));
        generator.setTitle(m_plot->yAxis->label());
        QCPPainter painter;
        written = painter.begin(&generator);
        if (written) {
            m_plot->toPainter(&painter, width, height);
            written = painter.end();
        }
    } else {
        return fail(tr("cannot export to \"%1\": the name must end in .png, .svg or .pdf")
                        .arg(QFileInfo(path).fileName()));
    }
    if (!written || !QFile::exists(partial))
        return fail(tr("cannot write %1").arg(QDir::toNativeSeparators(partial)));
    if (QFile::exists(path) && !QFile::remove(path))
        return fail(tr("cannot replace %1").arg(QDir::toNativeSeparators(path)));
    if (!QFile::rename(partial, path))
        return fail(tr("cannot rename to %1").arg(QDir::toNativeSeparators(path)));
    return true;
}

void MetricPlot::showContextMenu(const QPoint &pos)
{
    QMenu menu(this);
    menu.addAction(tr("Fit to data"), this, [this] { fitToData(); });
    menu.addAction(tr("Export image…"), this, [this] {
        const QString base = m_plot->yAxis->label().isEmpty() ? QStringLiteral("plot")
                                                              : m_plot->yAxis->label();
        QString selected;
        QString path = QFileDialog::getSaveFileName(
            this, tr("Export plot"), QDir::home().filePath(base + QStringLiteral(".png")),
            tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"), &selected);
        if (path.isEmpty())
            return;
        if (QFileInfo(path).suffix().isEmpty())
            path += selected.contains(QLatin1String("svg"))   ? QStringLiteral(".svg")
                    : selected.contains(QLatin1String("pdf")) ? QStringLiteral(".pdf")
                                                              : QStringLiteral(".png");
        QString error;
        if (!exportImage(path, &error))
            QToolTip::showText(QCursor::pos(), error, this);
    });
    menu.exec(m_plot->mapToGlobal(pos));
}

bool MetricPlot::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_plot && event->type() == QEvent::Leave && m_tracer->visible()) {
        m_tracer->setVisible(false);
        m_plot->layer(QStringLiteral("overlay"))->replot();
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace ms::ui
