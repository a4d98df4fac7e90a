// The studio executable's own options, run as a user or docs/screenshots would run it: the Data
// panel reads the dataset --dataset names (not always Fashion-MNIST), a dataset that is neither
// built in nor on disk is refused before the window opens, and --window-size sizes the
// screenshot. Offscreen, isolated workspace.
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct GuiRun
{
    int exitCode = -1;   // -1 when it crashed or timed out
    QString err;
};

GuiRun runGui(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(MS_TEST_BIN_DIR "/modelstudio"), args);
    GuiRun run;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        return run;
    }
    run.err = QString::fromLocal8Bit(p.readAllStandardError());
    if (p.exitStatus() == QProcess::NormalExit)
        run.exitCode = p.exitCode();
    return run;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

} // namespace

class TestGuiMain final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void datasetOptionIsTheDataPanelsSource();
    void unreadableDatasetIsReportedWithItsName();
    void unknownDatasetIsRefusedBeforeTheWindowOpens();

private:
    QTemporaryDir m_dir;
};

void TestGuiMain::datasetOptionIsTheDataPanelsSource()
{
    const QString csv = m_dir.filePath(QStringLiteral("flowers.csv"));
    QByteArray rows("petal_length,petal_width,species\n");
    for (int i = 0; i < 30; ++i)
        rows += QByteArray::number(1.0 + i * 0.1) + ',' + QByteArray::number(0.2 + i * 0.05)
                + (i % 2 ? ",versicolor-long-name\n" : ",setosa\n");
    QVERIFY(writeFile(csv, rows));
    const QString shot = m_dir.filePath(QStringLiteral("data.png"));
    const GuiRun run = runGui({QStringLiteral("--workspace"), m_dir.filePath(QStringLiteral("ws")),
                               QStringLiteral("--panel"), QStringLiteral("data"),
                               QStringLiteral("--dataset"), csv, QStringLiteral("--window-size"),
                               QStringLiteral("1100x700"), QStringLiteral("--screenshot"), shot});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const QImage image(shot);
    QCOMPARE(image.size(), QSize(1100, 700));
}

void TestGuiMain::unreadableDatasetIsReportedWithItsName()
{
    // Read, not skipped for the default dataset: its reader's complaint comes back, named.
    const QString csv = m_dir.filePath(QStringLiteral("broken.csv"));
    QVERIFY(writeFile(csv, "a,b,label\n1,2,0\n3,4\n"));
    const QString shot = m_dir.filePath(QStringLiteral("broken.png"));
    const GuiRun run = runGui({QStringLiteral("--workspace"), m_dir.filePath(QStringLiteral("ws")),
                               QStringLiteral("--dataset"), csv,
                               QStringLiteral("--screenshot"), shot});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QStringLiteral("broken.csv")), qPrintable(run.err));
    QVERIFY(QFile::exists(shot));   // the panel, with its message, is still pictured
}

void TestGuiMain::unknownDatasetIsRefusedBeforeTheWindowOpens()
{
    const QString shot = m_dir.filePath(QStringLiteral("none.png"));
    const GuiRun run = runGui({QStringLiteral("--workspace"), m_dir.filePath(QStringLiteral("ws")),
                               QStringLiteral("--dataset"), QStringLiteral("no-such-dataset"),
                               QStringLiteral("--screenshot"), shot});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(QStringLiteral("no-such-dataset")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("fashion-mnist")), qPrintable(run.err));
    QCOMPARE(run.err.count(QStringLiteral("modelstudio:")), 1);   // one message
    QVERIFY(!QFile::exists(shot));
    // And a size that is not WIDTHxHEIGHT.
    const GuiRun size = runGui({QStringLiteral("--workspace"),
                                m_dir.filePath(QStringLiteral("ws")),
                                QStringLiteral("--window-size"), QStringLiteral("1024"),
                                QStringLiteral("--screenshot"), shot});
    QCOMPARE(size.exitCode, 2);
    QVERIFY2(size.err.contains(QStringLiteral("--window-size")), qPrintable(size.err));
}

QTEST_GUILESS_MAIN(TestGuiMain)
#include "tst_guimain.moc"
