// The Data panel on small fixtures written here: an IDX folder (train and test pairs) and a CSV
// file. It reads them on the JobRunner, shows every split's histogram (summing to the split
// sizes), thumbnails that pair each image with its own label, the CSV's first rows with its
// header, and a clear error in the panel for an unreadable file. Its layout: 224x224 images
// shrink into their grid cells, and long class names under the histogram are all readable
// (none overlapping, the first not left out at the plot's edge). A text folder shows its
// records, class counts and the histogram of their lengths in tokens. Offscreen, no real
// dataset.
#include "panels/data/ClassHistogram.h"

#include <qcustomplot.h>

#include "panels/data/CsvRowsModel.h"
#include "panels/data/DataPanel.h"
#include "panels/data/SampleListModel.h"
#include "panels/data/TokenLengthHistogram.h"

#include "jobs/JobRunner.h"

#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QImage>
#include <QListView>
#include <QMimeData>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include <cmath>
#include <numeric>

using ms::ui::DataPanel;

namespace {

constexpr int kTrainCount = 20;
constexpr int kTestCount = 6;
constexpr int kHeight = 3;
constexpr int kWidth = 5;
constexpr int kClasses = 3;

QByteArray bigEndian(quint32 value)
{
    QByteArray bytes(4, '\0');
    for (int i = 0; i < 4; ++i)
        bytes[i] = char((value >> (24 - 8 * i)) & 0xff);
    return bytes;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// Image i is filled with the grey level 10 * i and labelled i % 3, so a thumbnail's pixel tells
// which image it is and therefore which label it must carry.
bool writeIdxPair(const QString &dir, const QString &prefix, int count, int height = kHeight,
                  int width = kWidth)
{
    QByteArray images = bigEndian(0x803) + bigEndian(quint32(count)) + bigEndian(height)
                        + bigEndian(width);
    QByteArray labels = bigEndian(0x801) + bigEndian(quint32(count));
    for (int i = 0; i < count; ++i) {
        images += QByteArray(height * width, char(10 * i));
        labels += char(i % kClasses);
    }
    return writeFile(QDir(dir).filePath(prefix + QStringLiteral("-images-idx3-ubyte")), images)
           && writeFile(QDir(dir).filePath(prefix + QStringLiteral("-labels-idx1-ubyte")),
                        labels);
}

qint64 sum(const QVector<double> &values)
{
    return qint64(std::accumulate(values.cbegin(), values.cend(), 0.0));
}

bool loadAndWait(DataPanel &panel, const QString &source)
{
    QSignalSpy loaded(&panel, &DataPanel::loaded);
    panel.load(source);
    return loaded.wait(20000) && loaded.last().first().toBool();
}

} // namespace

class TestDataPanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void idxFolderShowsSamplesAndHistogram();
    void thumbnailsCarryTheirOwnLabels();
    void csvShowsRowsAndHistogram();
    void unreadableFileSaysWhyInThePanel();
    void droppingAFileLoadsIt();
    void largeImagesFitTheirCells();
    void longClassNamesAreAllReadable();
    void textFolderShowsRecordsClassesAndLengths();

private:
    QTemporaryDir m_dir;
    QString m_idx;
    QString m_csv;
};

void TestDataPanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_idx = m_dir.filePath(QStringLiteral("tiny-idx"));
    QVERIFY(QDir().mkpath(m_idx));
    QVERIFY(writeIdxPair(m_idx, QStringLiteral("train"), kTrainCount));
    QVERIFY(writeIdxPair(m_idx, QStringLiteral("t10k"), kTestCount));

    // 10 rows of two features and a named label: 4 setosa, 6 virginica.
    QByteArray csv("sepal,petal,species\n");
    for (int i = 0; i < 10; ++i)
        csv += QByteArray::number(i) + ',' + QByteArray::number(i * 0.5) + ','
               + (i < 4 ? "setosa" : "virginica") + '\n';
    m_csv = m_dir.filePath(QStringLiteral("flowers.csv"));
    QVERIFY(writeFile(m_csv, csv));
}

void TestDataPanel::idxFolderShowsSamplesAndHistogram()
{
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QVERIFY(loadAndWait(panel, m_idx));
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));

    const ms::ui::DatasetPreview &preview = panel.preview();
    QCOMPARE(preview.sampleShape, (std::vector<qint64>{1, kHeight, kWidth}));
    QCOMPARE(preview.classNames.size(), kClasses);
    // The default 10 % validation share of 20 training images.
    QCOMPARE(preview.splits.size(), 3);
    QCOMPARE(preview.splits[0].count, 18);
    QCOMPARE(preview.splits[1].count, 2);
    QCOMPARE(preview.splits[2].count, kTestCount);

    // The histogram of each split sums to that split's size.
    ms::ui::ClassHistogram *histogram = panel.histogram();
    QCOMPARE(histogram->splitNames(),
             (QStringList{QStringLiteral("train"), QStringLiteral("validation"),
                          QStringLiteral("test")}));
    QCOMPARE(sum(histogram->values(QStringLiteral("train"))), 18);
    QCOMPARE(sum(histogram->values(QStringLiteral("validation"))), 2);
    QCOMPARE(sum(histogram->values(QStringLiteral("test"))), kTestCount);
    // Test images 0..5 are labelled 0,1,2,0,1,2: two per class.
    QCOMPARE(histogram->values(QStringLiteral("test")), (QVector<double>{2, 2, 2}));
    // Train + validation together hold the 20 images: 7, 7 and 6 per class.
    const QVector<double> train = histogram->values(QStringLiteral("train"));
    const QVector<double> validation = histogram->values(QStringLiteral("validation"));
    QCOMPARE(train[0] + validation[0], 7.0);
    QCOMPARE(train[1] + validation[1], 7.0);
    QCOMPARE(train[2] + validation[2], 6.0);

    // The grid shows the training split's images; the table is not in use.
    QCOMPARE(panel.sampleModel()->rowCount(), 18);
    QCOMPARE(panel.csvModel()->rowCount(), 0);
    QCOMPARE(panel.sampleView()->model(), panel.sampleModel());
    panel.showSplit(QStringLiteral("test"));
    QCOMPARE(panel.sampleModel()->rowCount(), kTestCount);
}

void TestDataPanel::thumbnailsCarryTheirOwnLabels()
{
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QVERIFY(loadAndWait(panel, m_idx));
    ms::ui::SampleListModel *model = panel.sampleModel();
    QVERIFY(model->rowCount() > 0);
    QSet<int> seen;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row);
        const QImage image = index.data(ms::ui::SampleListModel::ImageRole).value<QImage>();
        QVERIFY(!image.isNull());
        QVERIFY(!index.data(Qt::DecorationRole).value<QPixmap>().isNull());
        // Enlarged by a whole factor (nearest neighbour), one grey level throughout.
        const int scale = image.width() / kWidth;
        QVERIFY(scale >= 1);
        QCOMPARE(image.size(), QSize(kWidth * scale, kHeight * scale));
        const int grey = qGray(image.pixel(image.width() - 1, image.height() - 1));
        QCOMPARE(qGray(image.pixel(0, 0)), grey);
        QCOMPARE(grey % 10, 0);
        const int original = grey / 10;
        QVERIFY(original >= 0 && original < kTrainCount);
        seen.insert(original);
        const qint64 label = index.data(ms::ui::SampleListModel::LabelRole).toLongLong();
        QCOMPARE(label, qint64(original % kClasses));
        QCOMPARE(index.data(Qt::DisplayRole).toString(),
                 panel.preview().classNames.at(int(label)));
    }
    QCOMPARE(seen.size(), model->rowCount());   // every thumbnail a different image
}

void TestDataPanel::csvShowsRowsAndHistogram()
{
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QVERIFY(loadAndWait(panel, m_csv));
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));

    ms::ui::CsvRowsModel *csv = panel.csvModel();
    QVERIFY(csv->hasHeader());
    QCOMPARE(csv->rowCount(), 10);
    QCOMPARE(csv->columnCount(), 3);
    QCOMPARE(csv->index(4, 2).data().toString(), QStringLiteral("virginica"));
    QVERIFY(csv->headerData(2, Qt::Horizontal).toString().startsWith(QStringLiteral("species")));
    QCOMPARE(csv->labelColumn(), 2);
    QCOMPARE(panel.sampleModel()->rowCount(), 0);
    QCOMPARE(panel.csvView()->model(), csv);

    QCOMPARE(panel.preview().classNames,
             (QStringList{QStringLiteral("setosa"), QStringLiteral("virginica")}));
    // No test split in a CSV: the histogram leaves it out.
    ms::ui::ClassHistogram *histogram = panel.histogram();
    QCOMPARE(histogram->splitNames(),
             (QStringList{QStringLiteral("train"), QStringLiteral("validation")}));
    QCOMPARE(sum(histogram->values(QStringLiteral("train"))), panel.preview().splits[0].count);
    QCOMPARE(sum(histogram->values(QStringLiteral("train")))
                 + sum(histogram->values(QStringLiteral("validation"))),
             10);
    const QVector<double> train = histogram->values(QStringLiteral("train"));
    const QVector<double> validation = histogram->values(QStringLiteral("validation"));
    QCOMPARE(train[0] + validation[0], 4.0);
    QCOMPARE(train[1] + validation[1], 6.0);
}

void TestDataPanel::unreadableFileSaysWhyInThePanel()
{
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QVERIFY(loadAndWait(panel, m_csv));
    const QString broken = m_dir.filePath(QStringLiteral("broken.csv"));
    QVERIFY(writeFile(broken, "just\none\ncolumn\n"));

    QVERIFY(!loadAndWait(panel, broken));
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("broken.csv")),
             qPrintable(panel.statusText()));
    QVERIFY2(panel.statusText().contains(QStringLiteral("single column")),
             qPrintable(panel.statusText()));
    // What was shown before stays: nothing is lost to a typo.
    QCOMPARE(panel.csvModel()->rowCount(), 10);

    QVERIFY(!loadAndWait(panel, m_dir.filePath(QStringLiteral("missing"))));
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("missing")),
             qPrintable(panel.statusText()));
}

void TestDataPanel::droppingAFileLoadsIt()
{
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(m_csv)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&panel, &enter);
    QVERIFY(enter.isAccepted());

    QSignalSpy loaded(&panel, &DataPanel::loaded);
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&panel, &drop);
    QVERIFY(drop.isAccepted());
    QVERIFY(loaded.wait(20000));
    QVERIFY(loaded.last().first().toBool());
    QCOMPARE(panel.source(), m_csv);
    QCOMPARE(panel.csvModel()->rowCount(), 10);

    // A model is not a dataset: the panel lets a .pt go on to the window.
    QMimeData model;
    model.setUrls({QUrl::fromLocalFile(m_dir.filePath(QStringLiteral("net.pt")))});
    QDragEnterEvent modelEnter(QPoint(10, 10), Qt::CopyAction, &model, Qt::LeftButton,
                               Qt::NoModifier);
    QApplication::sendEvent(&panel, &modelEnter);
    QVERIFY(!modelEnter.isAccepted());
}

void TestDataPanel::largeImagesFitTheirCells()
{
    const QString dir = m_dir.filePath(QStringLiteral("large-idx"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeIdxPair(dir, QStringLiteral("train"), 8, 224, 224));
    ms::JobRunner runner;
    DataPanel panel(&runner);
    // Read before the first show, which would read the default dataset otherwise.
    QVERIFY(loadAndWait(panel, dir));
    QCOMPARE(panel.preview().sampleShape, (std::vector<qint64>{1, 224, 224}));
    panel.resize(1000, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QListView *view = panel.sampleView();
    const QSize grid = view->gridSize();
    const QModelIndex first = panel.sampleModel()->index(0);
    const QPixmap decoration = first.data(Qt::DecorationRole).value<QPixmap>();
    // The picture leaves the cell room for its label under it (a 224 px picture covered it).
    QVERIFY2(decoration.width() <= grid.width() && decoration.height()
                 + view->fontMetrics().height() <= grid.height(),
             qPrintable(QStringLiteral("%1x%2 in a %3x%4 cell").arg(decoration.width())
                            .arg(decoration.height()).arg(grid.width()).arg(grid.height())));
    QCOMPARE(first.data(ms::ui::SampleListModel::ImageRole).value<QImage>().width(),
             first.data(ms::ui::SampleListModel::ImageRole).value<QImage>().height());
}

void TestDataPanel::longClassNamesAreAllReadable()
{
    const QStringList names{QStringLiteral("airplane-passenger-jet"),
                            QStringLiteral("automobile-sedan"), QStringLiteral("bird-songbird"),
                            QStringLiteral("cat-domestic"), QStringLiteral("deer-white-tailed"),
                            QStringLiteral("dog-retriever"), QStringLiteral("frog-tree"),
                            QStringLiteral("horse-thoroughbred"),
                            QStringLiteral("ship-container"), QStringLiteral("truck-with-trailer")};
    QByteArray csv("x,label\n");
    for (int i = 0; i < 40; ++i)
        csv += QByteArray::number(i) + ',' + names[i % 10].toUtf8() + '\n';
    const QString path = m_dir.filePath(QStringLiteral("long-names.csv"));
    QVERIFY(writeFile(path, csv));
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QVERIFY(loadAndWait(panel, path));
    QCOMPARE(panel.preview().classNames, names);
    panel.resize(900, 560);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));

    ms::ui::ClassHistogram *histogram = panel.histogram();
    QCPAxis *axis = histogram->customPlot()->xAxis;
    const QFontMetricsF metrics(axis->tickLabelFont());
    const double tilt = std::abs(axis->tickLabelRotation()) * M_PI / 180.0;
    QVERIFY(tilt > 0.1);
    // QCustomPlot draws a tilted name ending at its tick and leaves out one that would cross
    // the plot's edge: the first must reach no further left than the plot; names shown are
    // far enough apart, as parallel tilted lines, not to overlap.
    auto readable = [&](QString *why) {
        const QStringList shown = histogram->shownTickLabels();
        if (shown.size() != names.size() || shown.first() != names.first()) {
            *why = QStringLiteral("the first name is not shown");
            return false;
        }
        const double reach_px = metrics.horizontalAdvance(shown.first()) * std::cos(tilt)
                                + metrics.height() * std::sin(tilt);
        if (axis->coordToPixel(0) - reach_px < 0) {
            *why = QStringLiteral("\"%1\" reaches %2 px beyond the left edge")
                       .arg(shown.first()).arg(reach_px - axis->coordToPixel(0));
            return false;
        }
        int previous = -1;
        for (int c = 0; c < shown.size(); ++c) {
            if (shown[c].isEmpty())
                continue;
            if (previous >= 0) {
                const double apart_px = (axis->coordToPixel(c) - axis->coordToPixel(previous))
                                        * std::sin(tilt);
                if (apart_px < metrics.height()) {
                    *why = QStringLiteral("\"%1\" and \"%2\" overlap").arg(shown[previous],
                                                                         shown[c]);
                    return false;
                }
            }
            previous = c;
        }
        return true;
    };
    QString why;
    QTRY_VERIFY2(readable(&why), qPrintable(why));
}

// A text folder: alpha/0..6.txt of 1..7 ASCII bytes, beta/0..4.txt of 5, 10, .. 25 "é"
// (10..50 bytes). Record 9 (beta's third) is validation. Class counts per split, the records
// with their class and byte-token length, and a length histogram over all 12 records.
void TestDataPanel::textFolderShowsRecordsClassesAndLengths()
{
    const QString root = m_dir.filePath(QStringLiteral("texts"));
    QVERIFY(QDir().mkpath(root + QStringLiteral("/alpha")));
    QVERIFY(QDir().mkpath(root + QStringLiteral("/beta")));
    for (int i = 0; i < 7; ++i)
        QVERIFY(writeFile(QStringLiteral("%1/alpha/%2.txt").arg(root).arg(i),
                          QByteArray(i + 1, 'a') + '\n'));
    for (int j = 0; j < 5; ++j)
        QVERIFY(writeFile(QStringLiteral("%1/beta/%2.txt").arg(root).arg(j),
                          QString(5 * (j + 1), QChar(0xe9)).toUtf8()));
    ms::JobRunner runner;
    DataPanel panel(&runner);
    QVERIFY(loadAndWait(panel, root));
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
    QVERIFY(panel.preview().isText());

    ms::ui::ClassHistogram *histogram = panel.histogram();
    QCOMPARE(histogram->values(QStringLiteral("train")), (QVector<double>{7.0, 4.0}));
    QCOMPARE(histogram->values(QStringLiteral("validation")), (QVector<double>{0.0, 1.0}));

    ms::ui::TokenLengthHistogram *lengths = panel.lengthHistogram();
    QCOMPARE(lengths->total(), qint64(12));
    QCOMPARE(panel.preview().longestTokens, qint64(50));
    // Bins of 2 bytes up to the 99th percentile (40): 1 alone in [0, 2), 2 and 3 in [2, 4),
    // 40 and the longer 50 in the last, which the axis says.
    const QVector<double> bins = lengths->values();
    QCOMPARE(bins.size(), 21);
    QCOMPARE(bins[0], 1.0);
    QCOMPARE(bins[1], 2.0);
    QCOMPARE(bins[20], 2.0);
    QVERIFY2(lengths->customPlot()->xAxis->label().contains(QStringLiteral("40 and more")),
             qPrintable(lengths->customPlot()->xAxis->label()));

    QStandardItemModel *texts = panel.textModel();
    QCOMPARE(panel.textView()->model(), texts);
    QCOMPARE(texts->rowCount(), 11);
    QCOMPARE(texts->index(0, 0).data().toString(), QStringLiteral("alpha"));
    QCOMPARE(texts->index(0, 2).data().toString(), QStringLiteral("a"));
    QCOMPARE(texts->index(7, 0).data().toString(), QStringLiteral("beta"));
    QCOMPARE(texts->index(7, 1).data().toString(), QStringLiteral("10"));   // 5 x 2 bytes
    panel.showSplit(QStringLiteral("validation"));
    QCOMPARE(texts->rowCount(), 1);
    QCOMPARE(texts->index(0, 1).data().toString(), QStringLiteral("30"));
}

QTEST_MAIN(TestDataPanel)
#include "tst_datapanel.moc"
