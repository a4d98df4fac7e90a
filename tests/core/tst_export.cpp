// The exporters (core/export): a Triton model repository, a TorchServe archive and a plain
// TorchScript file with its README, checked against the formats' documented fields, reloaded
// in Python PyTorch (python3-torch is a required test dependency), and refused cleanly.

#include "TestSupport.h"
#include "common/Error.h"
#include "export/Exporter.h"
#include "export/PtExporter.h"
#include "export/TritonExporter.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "ui/TinyModel.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace ms;
using namespace ms::test;

namespace {

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString sha256Of(const QByteArray &data)
{
    return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden,
                               QDir::Name);
}

// A reader of protobuf text format just large enough for config.pbtxt: it flattens the file
// into "path = value" pairs such as "input[0].dims" = "[1,28,28]" and "name" = "tiny", so a
// test checks fields by their place in the ModelConfig message rather than by grepping text.
class PbtxtReader
{
public:
    explicit PbtxtReader(const QByteArray &text)
    {
        // Quoted strings, identifiers, numbers, punctuation.
        static const char *const pattern =
            "\"(?:[^\"\\\\]|\\\\.)*\"|[A-Za-z_][A-Za-z0-9_]*|-?[0-9.]+|[{}\\[\\]:,]";
        static const QRegularExpression token(QString::fromLatin1(pattern));
        QString clean;
        for (const QString &line : QString::fromUtf8(text).split(QLatin1Char('\n'))) {
            if (!line.trimmed().startsWith(QLatin1Char('#')))
                clean += line + QLatin1Char('\n');
        }
        auto it = token.globalMatch(clean);
        while (it.hasNext())
            m_tokens << it.next().captured(0);
        parseFields(QString(), QString());
    }
    bool ok() const { return m_ok && m_pos == m_tokens.size(); }
    QMap<QString, QString> fields;

private:
    QString peek() const { return m_pos < m_tokens.size() ? m_tokens.at(m_pos) : QString(); }
    QString take() { return m_pos < m_tokens.size() ? m_tokens.at(m_pos++) : QString(); }

    // Fields until `end` ("}" or the end of input).
    void parseFields(const QString &prefix, const QString &end)
    {
        while (m_ok && m_pos < m_tokens.size() && peek() != end) {
            const QString key = take();
            if (peek() == QLatin1String(":"))
                take();
            parseValue(prefix + key);
        }
        if (!end.isEmpty() && take() != end)
            m_ok = false;
    }
    void parseValue(const QString &path)
    {
        const QString t = peek();
        if (t == QLatin1String("{")) {
            take();
            fields.insert(path, QStringLiteral("{}"));
            parseFields(path + QLatin1Char('.'), QStringLiteral("}"));
        } else if (t == QLatin1String("[")) {
            take();
            QStringList scalars;
            int index = 0;
            while (m_ok && peek() != QLatin1String("]")) {
                if (peek() == QLatin1String("{")) {
                    parseValue(QStringLiteral("%1[%2]").arg(path).arg(index++));
                } else {
                    scalars << take();
                }
                if (peek() == QLatin1String(","))
                    take();
                else if (peek() != QLatin1String("]"))
                    m_ok = false;
            }
            take();
            if (index == 0)
                fields.insert(path, QLatin1Char('[') + scalars.join(QLatin1Char(',')) + ']');
        } else if (t.isEmpty() || t == QLatin1String("}") || t == QLatin1String("]")) {
            m_ok = false;
        } else {
            QString value = take();
            if (value.startsWith(QLatin1Char('"')))
                value = value.mid(1, value.size() - 2);
            fields.insert(path, value);
        }
    }

    QStringList m_tokens;
    int m_pos = 0;
    bool m_ok = true;
};

} // namespace

class tst_Export : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void registryListsTheBuiltIns();
    void tritonConfigHasTheDocumentedFields();
    void tritonWithoutBatchingKeepsTheBatchDimension();
    void tritonRefusesANonEmptyModelFolder();
    void tritonRefusesAnUnwritablePath();
    void tritonRefusesAVersionWithoutSignature();
    void torchServeArchiveHasTheManifestAndRuns();
    void torchServeRefusesAnExistingArchive();
    void ptReloadsInPythonAndItsReadmeRuns();
    void ptRefusesToReplaceUnlessForced();
    void tritonConfigEscapesText();
    void readmeShowsTextAsText();
    void exportersRefuseANameThatIsAPath();

private:
    ExportInput input() const;

    QTemporaryDir m_dir;
    VersionRecord m_version;
    QString m_artifact;
};

void tst_Export::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    Registry registry(m_dir.filePath(QStringLiteral("ws")));
    NewVersion nv = ms::test::tinyImageVersion(QStringLiteral("tiny"),
                                               m_dir.filePath(QStringLiteral("tiny.pt")));
    m_version = registry.addVersion(nv);
    m_artifact = registry.verifiedArtifactPath(m_version);
    QByteArray out;
    QVERIFY2(runPython(m_dir.path(), QStringLiteral("import torch"), {}, &out),
             "/usr/bin/python3 cannot import torch: python3-torch is a required test "
             "dependency; run scripts/setup.sh");
}

ExportInput tst_Export::input() const
{
    ExportInput in;
    in.version = m_version;
    in.artifactPath = m_artifact;
    return in;
}

void tst_Export::registryListsTheBuiltIns()
{
    const QStringList names = ExporterRegistry::instance().exporters().names();
    for (const char *name : {"pt", "torchserve", "triton"})
        QVERIFY2(names.contains(QLatin1String(name)), name);
    const QString message = errorOf([] { ExporterRegistry::instance().exporter("onnx"); });
    QVERIFY2(message.contains(QStringLiteral("onnx")) && message.contains(QStringLiteral("triton")),
             qPrintable(message));
}

void tst_Export::tritonConfigHasTheDocumentedFields()
{
    const QString repo = m_dir.filePath(QStringLiteral("triton-repo"));
    ExportInput in = input();
    in.options.insert(QStringLiteral("max_batch_size"), 16);
    const QStringList written =
        ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(in, repo);
    const QString modelDir = QDir(repo).filePath(QStringLiteral("tiny"));
    QCOMPARE(written.value(0), modelDir);
    // Nothing but the model folder: the staging folder was renamed, not left behind.
    QCOMPARE(entries(repo), QStringList{QStringLiteral("tiny")});
    QCOMPARE(entries(modelDir), (QStringList{QStringLiteral("1"), QStringLiteral("config.pbtxt"),
                                             QStringLiteral("labels.txt")}));
    QCOMPARE(sha256Of(readAll(modelDir + QStringLiteral("/1/model.pt"))), m_version.sha256);
    QCOMPARE(QString::fromUtf8(readAll(modelDir + QStringLiteral("/labels.txt")))
                 .split(QLatin1Char('\n'), Qt::SkipEmptyParts),
             m_version.classNames);

    const QByteArray text = readAll(modelDir + QStringLiteral("/config.pbtxt"));
    const PbtxtReader config(text);
    QVERIFY2(config.ok(), text.constData());
    const QMap<QString, QString> &f = config.fields;
    QCOMPARE(f.value("name"), QStringLiteral("tiny"));
    QCOMPARE(f.value("platform"), QStringLiteral("pytorch_libtorch"));
    QCOMPARE(f.value("max_batch_size"), QStringLiteral("16"));
    QCOMPARE(f.value("input[0].name"), QStringLiteral("INPUT__0"));
    QCOMPARE(f.value("input[0].data_type"), QStringLiteral("TYPE_FP32"));
    // The batch dimension is Triton's to add when max_batch_size > 0.
    QCOMPARE(f.value("input[0].dims"), QStringLiteral("[1,28,28]"));
    QCOMPARE(f.value("output[0].name"), QStringLiteral("OUTPUT__0"));
    QCOMPARE(f.value("output[0].data_type"), QStringLiteral("TYPE_FP32"));
    QCOMPARE(f.value("output[0].dims"), QStringLiteral("[10]"));
    QCOMPARE(f.value("output[0].label_filename"), QStringLiteral("labels.txt"));
    QVERIFY2(f.contains("dynamic_batching"), text.constData());
    QVERIFY(f.value("dynamic_batching.max_queue_delay_microseconds").toInt() > 0);
    QVERIFY(!f.contains("input[1].name"));

    // The model Triton would load answers like the registry's.
    QByteArray out;
    QVERIFY(runPython(m_dir.path(), QStringLiteral(R"(
import json, sys, torch
m = torch.jit.load(sys.argv[1])
torch.manual_seed(3)
x = torch.rand(2, 1, 28, 28)
print(json.dumps({"x": x.flatten().tolist(), "y": m(x).flatten().tolist()}))
)"),
                      {modelDir + QStringLiteral("/1/model.pt")}, &out));
    const QJsonObject r = QJsonDocument::fromJson(out).object();
    std::vector<float> x;
    for (const QJsonValue &v : r.value(QStringLiteral("x")).toArray())
        x.push_back(float(v.toDouble()));
    const std::vector<float> ours = Model::load(m_artifact).predict(x, {2, 1, 28, 28});
    const QJsonArray theirs = r.value(QStringLiteral("y")).toArray();
    QCOMPARE(size_t(theirs.size()), ours.size());
    for (size_t i = 0; i < ours.size(); ++i)
        QVERIFY(closeTo(theirs.at(int(i)).toDouble(), ours[i], 1e-5));
}

void tst_Export::tritonWithoutBatchingKeepsTheBatchDimension()
{
    ExportInput in = input();
    in.options.insert(QStringLiteral("max_batch_size"), 0);
    const QString repo = m_dir.filePath(QStringLiteral("triton-nobatch"));
    ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(in, repo);
    const QByteArray text = readAll(repo + QStringLiteral("/tiny/config.pbtxt"));
    const PbtxtReader config(text);
    QVERIFY2(config.ok(), text.constData());
    QCOMPARE(config.fields.value("max_batch_size"), QStringLiteral("0"));
    QCOMPARE(config.fields.value("input[0].dims"), QStringLiteral("[-1,1,28,28]"));
    QCOMPARE(config.fields.value("output[0].dims"), QStringLiteral("[-1,10]"));
    QVERIFY(!config.fields.contains("dynamic_batching"));
    // A negative size is refused before anything is written.
    in.options.insert(QStringLiteral("max_batch_size"), -1);
    const QString bad = m_dir.filePath(QStringLiteral("triton-negative"));
    QVERIFY(!errorOf([&] {
                 ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(in, bad);
             }).isEmpty());
    QVERIFY(!QFileInfo::exists(bad));
}

void tst_Export::tritonRefusesANonEmptyModelFolder()
{
    const QString repo = m_dir.filePath(QStringLiteral("triton-busy"));
    QVERIFY(QDir().mkpath(repo + QStringLiteral("/tiny")));
    QFile old(repo + QStringLiteral("/tiny/config.pbtxt"));
    QVERIFY(old.open(QIODevice::WriteOnly));
    old.write("name: \"tiny\"\n");
    old.close();
    const QString message = errorOf([&] {
        ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(input(), repo);
    });
    QVERIFY2(message.contains(QStringLiteral("not empty"))
                 && message.contains(QStringLiteral("tiny")),
             qPrintable(message));
    QCOMPARE(entries(repo), QStringList{QStringLiteral("tiny")});
    QCOMPARE(entries(repo + QStringLiteral("/tiny")), QStringList{QStringLiteral("config.pbtxt")});
    QCOMPARE(readAll(repo + QStringLiteral("/tiny/config.pbtxt")), QByteArray("name: \"tiny\"\n"));

    // An empty model folder is not in the way: the export takes its place.
    const QString emptyRepo = m_dir.filePath(QStringLiteral("triton-empty"));
    QVERIFY(QDir().mkpath(emptyRepo + QStringLiteral("/tiny")));
    ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(input(), emptyRepo);
    QVERIFY(QFileInfo::exists(emptyRepo + QStringLiteral("/tiny/1/model.pt")));
}

void tst_Export::tritonRefusesAnUnwritablePath()
{
    // A path under a regular file cannot be created, even by root (the tests may run as root,
    // where permission bits would not refuse anything).
    const QString file = m_dir.filePath(QStringLiteral("a-file"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    const QString repo = file + QStringLiteral("/repo");
    const QString message = errorOf([&] {
        ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(input(), repo);
    });
    QVERIFY2(message.contains(QStringLiteral("cannot create")), qPrintable(message));
    QCOMPARE(readAll(file), QByteArray());
    for (const char *format : {"pt", "torchserve"}) {
        const QString target = file + (qstrcmp(format, "pt") == 0 ? QStringLiteral("/x.pt")
                                                                 : QStringLiteral("/x.mar"));
        const QString m = errorOf([&] {
            ExporterRegistry::instance().exporter(QLatin1String(format))->write(input(), target);
        });
        QVERIFY2(m.contains(file), qPrintable(m));
    }
}

void tst_Export::tritonRefusesAVersionWithoutSignature()
{
    ExportInput in = input();
    in.version.inputs.clear();
    const QString repo = m_dir.filePath(QStringLiteral("triton-nosig"));
    const QString message = errorOf([&] {
        ExporterRegistry::instance().exporter(QStringLiteral("triton"))->write(in, repo);
    });
    QVERIFY2(message.contains(QStringLiteral("--input-shape")), qPrintable(message));
    QVERIFY(!QFileInfo::exists(repo));
    QVERIFY(!errorOf([&] {
                 ExporterRegistry::instance().exporter(QStringLiteral("torchserve"))
                     ->write(in, m_dir.filePath(QStringLiteral("nosig.mar")));
             }).isEmpty());
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("nosig.mar"))));
}

void tst_Export::torchServeArchiveHasTheManifestAndRuns()
{
    const QString store = m_dir.filePath(QStringLiteral("model-store"));
    QVERIFY(QDir().mkpath(store));
    const QStringList written =
        ExporterRegistry::instance().exporter(QStringLiteral("torchserve"))->write(input(), store);
    const QString mar = QDir(store).filePath(QStringLiteral("tiny.mar"));
    QCOMPARE(written, QStringList{mar});
    QCOMPARE(entries(store), QStringList{QStringLiteral("tiny.mar")});

    // Unpacked with Python's zipfile (another zip implementation than the writer's), then the
    // handler runs as TorchServe calls a module-level handler: handle(None, ctx) once to
    // initialise, then handle(requests, ctx), with a context carrying model_dir and the
    // manifest. One request is a JSON tensor, one a PNG (decoded with Pillow).
    const QString script = QStringLiteral(R"(
import importlib.util, io, json, sys, tempfile, types, zipfile, torch
from PIL import Image
out = {}
with zipfile.ZipFile(sys.argv[1]) as z:
    out["names"] = sorted(z.namelist())
    out["bad"] = z.testzip()
    manifest = json.loads(z.read("MAR-INF/MANIFEST.json"))
    out["manifest"] = manifest
    out["index_to_name"] = json.loads(z.read("index_to_name.json"))
    d = tempfile.mkdtemp()
    z.extractall(d)
spec = importlib.util.spec_from_file_location("handler", d + "/" + manifest["model"]["handler"])
handler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(handler)
ctx = types.SimpleNamespace(system_properties={"model_dir": d, "gpu_id": None},
                            manifest=manifest)
out["init"] = handler.handle(None, ctx)
torch.manual_seed(7)
x = torch.rand(1, 28, 28)
pixels = (torch.rand(28, 28) * 255).round().to(torch.uint8)
png = io.BytesIO()
Image.frombytes("L", (28, 28), bytes(pixels.flatten().tolist())).save(png, format="PNG")
answers = handler.handle([{"body": json.dumps(x.tolist()).encode()},
                          {"data": bytearray(png.getvalue())}], ctx)
m = torch.jit.load(d + "/" + manifest["model"]["serializedFile"])
with torch.no_grad():
    p_tensor = torch.softmax(m(x.unsqueeze(0)), dim=1)[0]
    p_image = torch.softmax(m((pixels.float() / 255).reshape(1, 1, 28, 28)), dim=1)[0]
out["answers"] = answers
out["x"] = x.flatten().tolist()
out["expected_tensor"] = p_tensor.tolist()
out["expected_image"] = p_image.tolist()
print(json.dumps(out))
)");
    QByteArray out;
    QVERIFY(runPython(m_dir.path(), script, {mar}, &out));
    const QJsonObject r = QJsonDocument::fromJson(out).object();
    QVERIFY2(!r.isEmpty(), out.constData());
    QCOMPARE(r.value(QStringLiteral("names")).toArray(),
             (QJsonArray{QStringLiteral("MAR-INF/MANIFEST.json"), QStringLiteral("handler.py"),
                         QStringLiteral("index_to_name.json"), QStringLiteral("model.pt"),
                         QStringLiteral("modelstudio.json")}));
    QVERIFY(r.value(QStringLiteral("bad")).isNull());   // every CRC checks out

    // torch-model-archiver's MANIFEST.json fields.
    const QJsonObject manifest = r.value(QStringLiteral("manifest")).toObject();
    QCOMPARE(manifest.value(QStringLiteral("runtime")).toString(), QStringLiteral("python"));
    QVERIFY(!manifest.value(QStringLiteral("archiverVersion")).toString().isEmpty());
    QVERIFY2(QRegularExpression(QStringLiteral(R"(^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$)"))
                 .match(manifest.value(QStringLiteral("createdOn")).toString()).hasMatch(),
             qPrintable(manifest.value(QStringLiteral("createdOn")).toString()));
    const QJsonObject model = manifest.value(QStringLiteral("model")).toObject();
    QCOMPARE(model.value(QStringLiteral("modelName")).toString(), QStringLiteral("tiny"));
    QCOMPARE(model.value(QStringLiteral("serializedFile")).toString(), QStringLiteral("model.pt"));
    QCOMPARE(model.value(QStringLiteral("handler")).toString(), QStringLiteral("handler.py"));
    QCOMPARE(model.value(QStringLiteral("modelVersion")).toString(), QStringLiteral("1.0"));
    const QJsonObject names = r.value(QStringLiteral("index_to_name")).toObject();
    QCOMPARE(names.size(), m_version.classNames.size());
    QCOMPARE(names.value(QStringLiteral("3")).toString(), m_version.classNames.at(3));
    QVERIFY(r.value(QStringLiteral("init")).isNull());

    // The handler's answers: the top-5 class names with the model's own probabilities.
    const QJsonArray answers = r.value(QStringLiteral("answers")).toArray();
    QCOMPARE(answers.size(), 2);
    const char *expectedKeys[] = {"expected_tensor", "expected_image"};
    for (int a = 0; a < 2; ++a) {
        const QJsonObject answer = answers.at(a).toObject();
        const QJsonArray expected = r.value(QLatin1String(expectedKeys[a])).toArray();
        QCOMPARE(answer.size(), 5);
        double best = -1.0;
        int bestIndex = -1;
        for (int i = 0; i < expected.size(); ++i) {
            if (expected.at(i).toDouble() > best) {
                best = expected.at(i).toDouble();
                bestIndex = i;
            }
        }
        const QString bestName = m_version.classNames.at(bestIndex);
        QVERIFY2(answer.contains(bestName), qPrintable(bestName));
        // The handler ran a batch of two, `expected` a batch of one: float32 probabilities
        // that differ in their last bits, compared relatively (this was `best + 1e-9` once,
        // and failed on another CPU's kernels).
        QVERIFY(closeTo(answer.value(bestName).toDouble(), best, 1e-5));
        for (auto it = answer.begin(); it != answer.end(); ++it)
            QVERIFY(it.value().toDouble() <= best || closeTo(it.value().toDouble(), best, 1e-5));
    }
    // And the tensor request agrees with the studio's own inference of the same sample.
    std::vector<float> x;
    for (const QJsonValue &v : r.value(QStringLiteral("x")).toArray())
        x.push_back(float(v.toDouble()));
    const std::vector<float> logits = Model::load(m_artifact).predict(x, {1, 1, 28, 28});
    double sum = 0.0;
    for (float l : logits)
        sum += std::exp(double(l));
    const QJsonArray expected = r.value(QStringLiteral("expected_tensor")).toArray();
    for (size_t i = 0; i < logits.size(); ++i)
        QVERIFY(closeTo(std::exp(double(logits[i])) / sum, expected.at(int(i)).toDouble(), 1e-5));
}

void tst_Export::torchServeRefusesAnExistingArchive()
{
    const QString mar = m_dir.filePath(QStringLiteral("existing.mar"));
    QFile f(mar);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("keep me");
    f.close();
    const QString message = errorOf([&] {
        ExporterRegistry::instance().exporter(QStringLiteral("torchserve"))->write(input(), mar);
    });
    QVERIFY2(message.contains(QStringLiteral("already exists")), qPrintable(message));
    QCOMPARE(readAll(mar), QByteArray("keep me"));
    const QString notMar = m_dir.filePath(QStringLiteral("archive.zip"));
    QVERIFY(errorOf([&] {
                ExporterRegistry::instance().exporter(QStringLiteral("torchserve"))
                    ->write(input(), notMar);
            }).contains(QStringLiteral(".mar")));
    QVERIFY(!QFileInfo::exists(notMar));
}

void tst_Export::ptReloadsInPythonAndItsReadmeRuns()
{
    const QString folder = m_dir.filePath(QStringLiteral("pt-out"));
    QVERIFY(QDir().mkpath(folder));
    const QStringList written =
        ExporterRegistry::instance().exporter(QStringLiteral("pt"))->write(input(), folder);
    const QString pt = QDir(folder).filePath(QStringLiteral("tiny-v1.pt"));
    const QString readme = QDir(folder).filePath(QStringLiteral("tiny-v1.README.md"));
    QCOMPARE(written, (QStringList{pt, readme}));
    QCOMPARE(entries(folder), (QStringList{QStringLiteral("tiny-v1.README.md"),
                                           QStringLiteral("tiny-v1.pt")}));
    QCOMPARE(sha256Of(readAll(pt)), m_version.sha256);

    // The README's snippet is real: run as written beside the model, it prints class names.
    const QString text = QString::fromUtf8(readAll(readme));
    QVERIFY(text.contains(QStringLiteral("(N, 1, 28, 28)")));
    const QRegularExpressionMatch block =
        QRegularExpression(QStringLiteral("```python\n(.*?)```"),
                           QRegularExpression::DotMatchesEverythingOption)
            .match(text);
    QVERIFY2(block.hasMatch(), qPrintable(text));
    QVERIFY(block.captured(1).contains(QStringLiteral("torch.rand(8, 1, 28, 28)")));
    QByteArray out;
    QVERIFY(runPython(m_dir.path(), block.captured(1), {}, &out, folder));
    const QJsonArray printed =
        QJsonDocument::fromJson(QString::fromUtf8(out).replace(QLatin1Char('\''),
                                                               QLatin1Char('"')).toUtf8())
            .array();
    QCOMPARE(printed.size(), 8);
    for (const QJsonValue &name : printed)
        QVERIFY2(m_version.classNames.contains(name.toString()), out.constData());

}

void tst_Export::ptRefusesToReplaceUnlessForced()
{
    const QString folder = m_dir.filePath(QStringLiteral("pt-force"));
    const QString pt = QDir(folder).filePath(QStringLiteral("m.pt"));
    const QString readme = QDir(folder).filePath(QStringLiteral("m.README.md"));
    const std::shared_ptr<Exporter> exporter =
        ExporterRegistry::instance().exporter(QStringLiteral("pt"));
    exporter->write(input(), pt);
    QVERIFY(writeFile(readme, "notes a person wrote"));
    const QString message = errorOf([&] { exporter->write(input(), pt); });
    QVERIFY2(message.contains(QStringLiteral("already exist")) && message.contains(readme)
                 && message.contains(QStringLiteral("--force")),
             qPrintable(message));
    QCOMPARE(readAll(readme), QByteArray("notes a person wrote"));

    // Forced, it replaces both whole (temporary file and rename).
    ExportInput forced = input();
    forced.options.insert(QStringLiteral("force"), true);
    QCOMPARE(exporter->write(forced, pt), (QStringList{pt, readme}));
    QCOMPARE(entries(folder).size(), 2);
    QCOMPARE(sha256Of(readAll(pt)), m_version.sha256);
    QVERIFY(readAll(readme).startsWith("# `tiny:1`"));
}

void tst_Export::tritonConfigEscapesText()
{
    // A record from elsewhere may hold anything: quotes and line breaks stay inside the string
    // (protobuf text-format escapes), so no text becomes a field of its own.
    VersionRecord v = m_version;
    v.modelName = QStringLiteral("q\"uote\nmax_batch_size: 999\n# \\ \x01");
    const QByteArray text = TritonExporter::configText(v, 8);
    const PbtxtReader config(text);
    QVERIFY2(config.ok(), text.constData());
    QCOMPARE(config.fields.value(QStringLiteral("name")),
             QStringLiteral("q\\\"uote\\nmax_batch_size: 999\\n# \\\\ \\001"));
    QCOMPARE(config.fields.value(QStringLiteral("max_batch_size")), QStringLiteral("8"));
    for (const QByteArray &line : text.split('\n'))
        QVERIFY2(!line.trimmed().startsWith("max_batch_size: 999"), text.constData());
}

void tst_Export::readmeShowsTextAsText()
{
    VersionRecord v = m_version;
    v.inputs.first().name = QStringLiteral("x` <b>bold</b>\n# heading");
    v.classNames = {QStringLiteral("\"); import os; os.system(\"touch PWNED\"); (\""),
                    QStringLiteral("```")};
    const QString text =
        QString::fromUtf8(PtExporter::readmeText(v, QStringLiteral("a\"b.pt")));
    // The tensor's name is one code span on its line, its backtick and line break harmless.
    QVERIFY2(text.contains(QStringLiteral("- input ``x` <b>bold</b>\\n# heading``:")),
             qPrintable(text));
    const QStringList lines = text.split(QLatin1Char('\n'));
    QCOMPARE(lines.filter(QRegularExpression(QStringLiteral("^#"))).size(), 1);
    QVERIFY(text.contains(QStringLiteral("torch.jit.load(\"a\\\"b.pt\")")));
    // The class names are Python string literals: the snippet's one line holds them.
    QVERIFY(text.contains(QStringLiteral(
        "class_names = [\"\\\"); import os; os.system(\\\"touch PWNED\\\"); (\\\"\", "
        "\"```\"]\n")));
}

void tst_Export::exportersRefuseANameThatIsAPath()
{
    // A registry from before the naming rule may hold such a name: every exporter refuses it
    // with the way out, and writes nothing anywhere.
    const QString out = m_dir.filePath(QStringLiteral("a/b/c/out"));
    QVERIFY(QDir().mkpath(out));
    ExportInput in = input();
    in.version.modelName = QStringLiteral("../../../escaped");
    for (const char *format : {"pt", "torchserve", "triton"}) {
        const QString message = errorOf([&] {
            ExporterRegistry::instance().exporter(QLatin1String(format))
                ->write(in, out + QLatin1Char('/'));
        });
        QVERIFY2(message.contains(QStringLiteral("modelstudio-cli rename")), qPrintable(message));
    }
    QVERIFY(entries(out).isEmpty());
    QVERIFY(entries(m_dir.filePath(QStringLiteral("a"))) == QStringList{QStringLiteral("b")});
}

QTEST_GUILESS_MAIN(tst_Export)
#include "tst_export.moc"
