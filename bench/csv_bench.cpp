// Reading a large CSV dataset: the studio's CsvReader against numpy.loadtxt (numpy 1.24's C
// parser) on the same file, alternately, in rounds. Prints seconds, MB/s of text and the peak
// resident growth per byte of float32 features (1.0 = the features alone, nothing else).
//
//   build/bin/csv_bench [ROWS] [FEATURES] [ROUNDS]      (default 50000 256 3)

#include "bench/ProcessMemory.h"
#include "data/CsvReader.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

struct Figure
{
    double seconds = 0.0;
    double peakPerFloatByte = 0.0;
};

// numpy in another process: its own peak, from VmHWM reset just before the load (ru_maxrss
// would not do: after fork and exec it still holds this process's peak).
bool numpyRead(const QString &path, Figure *figure)
{
    const char *script = R"(
import sys, time, numpy
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key + ':'):
            return int(line.split()[1]) * 1024
open('/proc/self/clear_refs', 'w').write('5')
before = status('VmRSS')
t = time.perf_counter()
a = numpy.loadtxt(sys.argv[1], delimiter=',', skiprows=1, dtype=numpy.float32)
seconds = time.perf_counter() - t
print(seconds, status('VmHWM') - before, a.shape[0], a.shape[1])
)";
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"),
                                                 QString::fromLatin1(script), path});
    if (!p.waitForFinished(-1) || p.exitCode() != 0) {
        std::fprintf(stderr, "numpy failed: %s\n", p.readAllStandardError().constData());
        return false;
    }
    const QByteArray output = p.readAllStandardOutput();
    const QList<QByteArray> parts = output.simplified().split(' ');
    if (parts.size() != 4) {
        std::fprintf(stderr, "numpy printed: %s\n", output.constData());
        return false;
    }
    const double floatBytes = parts[2].toDouble() * (parts[3].toDouble() - 1.0) * 4.0;
    figure->seconds = parts[0].toDouble();
    figure->peakPerFloatByte = parts[1].toDouble() / floatBytes;
    return true;
}

Figure studioRead(const QString &path)
{
    ms::ProcessMemory::releaseFreedMemory();
    ms::ProcessMemory::resetPeak();
    const qint64 before = ms::ProcessMemory::currentResident_bytes();
    QElapsedTimer clock;
    clock.start();
    const ms::Dataset d = ms::CsvReader().read(path, ms::DatasetOptions());
    Figure figure;
    figure.seconds = double(clock.nsecsElapsed()) / 1e9;
    const double floatBytes = double(d.train.features.size()) * 4.0;
    figure.peakPerFloatByte =
        double(ms::ProcessMemory::peakResident_bytes() - before) / floatBytes;
    return figure;
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int rows = argc > 1 ? std::atoi(argv[1]) : 50000;
    const int features = argc > 2 ? std::atoi(argv[2]) : 256;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench.csv"));
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            return 1;
        QByteArray header;
        for (int f = 0; f < features; ++f)
            header += "f" + QByteArray::number(f) + ',';
        file.write(header + "label\n");
        for (int r = 0; r < rows; ++r) {
            QByteArray row;
            for (int f = 0; f < features; ++f)
                row += QByteArray::number(double((r * 31 + f * 17) % 1000) / 997.0, 'f', 6) + ',';
            file.write(row + QByteArray::number(r % 10) + '\n');
        }
    }
    const double textMB = double(QFileInfo(path).size()) / 1e6;
    std::printf("csv_bench: %d rows x %d features, %.1f MB of text, %.1f MB of float32\n",
                rows, features, textMB, double(rows) * features * 4.0 / 1e6);

    std::vector<double> studioSeconds, numpySeconds, studioPeak, numpyPeak, ratios;
    for (int round = 0; round < rounds; ++round) {
        const Figure studio = studioRead(path);
        Figure peer;
        if (!numpyRead(path, &peer))
            return 1;
        std::printf("round %d: studio %.2f s (%.0f MB/s), peak %.2fx the floats | numpy "
                    "%.2f s (%.0f MB/s), peak %.2fx the floats\n",
                    round + 1, studio.seconds, textMB / studio.seconds, studio.peakPerFloatByte,
                    peer.seconds, textMB / peer.seconds, peer.peakPerFloatByte);
        studioSeconds.push_back(studio.seconds);
        numpySeconds.push_back(peer.seconds);
        studioPeak.push_back(studio.peakPerFloatByte);
        numpyPeak.push_back(peer.peakPerFloatByte);
        ratios.push_back(peer.seconds / studio.seconds);
    }
    std::printf("median: studio %.2f s, numpy %.2f s, speed ratio (numpy time / studio time) "
                "%.2fx (%.2f-%.2f); peak per float byte: studio %.2f, numpy %.2f\n",
                median(studioSeconds), median(numpySeconds), median(ratios),
                *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()), median(studioPeak),
                median(numpyPeak));
    return 0;
}
