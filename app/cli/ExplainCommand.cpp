// modelstudio-cli explain and disagree: why a version predicts what it does for one sample
// (an attribution map), and which test samples two versions answer differently.

#include "Command.h"
#include "ImageSample.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "common/Printable.h"
#include "common/Runtime.h"
#include "common/Workspace.h"
#include "data/DatasetRegistry.h"
#include "explain/Disagreement.h"
#include "explain/DisagreementJob.h"
#include "explain/Explainer.h"
#include "registry/Registry.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cli {

namespace {

qint64 wholeNumber(const QCommandLineParser &parser, const QString &flag, qint64 fallback)
{
    if (!parser.isSet(flag))
        return fallback;
    bool ok = false;
    const qint64 value = parser.value(flag).toLongLong(&ok);
    if (!ok || std::abs(value) > (qint64(1) << 40))
        throw ms::Error(QStringLiteral("--%1 takes a whole number, not \"%2\".")
                            .arg(flag, ms::printable(parser.value(flag))));
    return value;
}

double realNumber(const QCommandLineParser &parser, const QString &flag, double fallback)
{
    if (!parser.isSet(flag))
        return fallback;
    bool ok = false;
    const double value = parser.value(flag).toDouble(&ok);
    if (!ok || !std::isfinite(value))
        throw ms::Error(QStringLiteral("--%1 takes a number, not \"%2\".")
                            .arg(flag, ms::printable(parser.value(flag))));
    return value;
}

int boundedInt(const QCommandLineParser &parser, const QString &flag, int fallback)
{
    return int(std::clamp<qint64>(wholeNumber(parser, flag, fallback), -(1 << 30), 1 << 30));
}

ms::ExplainOptions readExplainOptions(const QCommandLineParser &parser)
{
    ms::ExplainOptions o;
    if (parser.isSet(QStringLiteral("method")))
        o.method = ms::explainMethodFromName(parser.value(QStringLiteral("method")));
    o.steps = boundedInt(parser, QStringLiteral("steps"), o.steps);
    o.target = boundedInt(parser, QStringLiteral("target"), o.target);
    if (parser.isSet(QStringLiteral("target")) && o.target < 0)
        throw ms::Error(
            QStringLiteral("--target is a class number (0 or more), not %1.").arg(o.target));
    o.samples = boundedInt(parser, QStringLiteral("samples"), o.samples);
    o.noiseLevel = realNumber(parser, QStringLiteral("noise"), o.noiseLevel);
    o.window = boundedInt(parser, QStringLiteral("window"), o.window);
    o.stride = boundedInt(parser, QStringLiteral("stride"), o.stride);
    const qint64 seed = wholeNumber(parser, QStringLiteral("seed"), 0);
    if (seed < 0)
        throw ms::Error(QStringLiteral("--seed must not be negative (got %1).").arg(seed));
    o.seed = quint64(seed);
    return o;
}

void addExplainOptions(QCommandLineParser &parser)
{
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    parser.addOptions({
        {QStringLiteral("sample"),
         QStringLiteral("Explain the N-th sample of the test split, in file order."),
         QStringLiteral("N")},
        {QStringLiteral("dataset"),
         QStringLiteral("The dataset of --sample (default: the one the version was trained on)."),
         QStringLiteral("D")},
        {QStringLiteral("input"), QStringLiteral("Explain an image file (PNG, JPEG, BMP)."),
         QStringLiteral("IMAGE")},
        {QStringLiteral("resize"),
         QStringLiteral("Convert and scale an --input image to the model's channels and size.")},
        {QStringLiteral("method"),
         QStringLiteral("integrated-gradients (default), saliency, smoothgrad or occlusion "
                        "(the one for int8 variants)."),
         QStringLiteral("M")},
        {QStringLiteral("steps"),
         QStringLiteral("Integrated gradients: points on the path from black (default 50)."),
         QStringLiteral("N")},
        {QStringLiteral("target"),
         QStringLiteral("The class whose score is explained (default: the predicted one)."),
         QStringLiteral("K")},
        {QStringLiteral("samples"), QStringLiteral("SmoothGrad: noisy copies (default 25)."),
         QStringLiteral("N")},
        {QStringLiteral("noise"),
         QStringLiteral("SmoothGrad: noise as a fraction of the input's range (default 0.15)."),
         QStringLiteral("F")},
        {QStringLiteral("seed"), QStringLiteral("SmoothGrad: the noise's seed (default 0)."),
         QStringLiteral("S")},
        {QStringLiteral("window"), QStringLiteral("Occlusion: window side (default 4)."),
         QStringLiteral("N")},
        {QStringLiteral("stride"), QStringLiteral("Occlusion: window stride (default 2)."),
         QStringLiteral("N")},
        {QStringLiteral("out"), QStringLiteral("Write the map blended over the image as a PNG."),
         QStringLiteral("PNG")},
        {QStringLiteral("opacity"),
         QStringLiteral("The map's weight in --out where it is strongest (default 0.7)."),
         QStringLiteral("F")},
        {QStringLiteral("threads"), QStringLiteral("Compute threads (default 1)."),
         QStringLiteral("N")},
    });
}

ms::Dataset loadTestData(const QCommandLineParser &parser, const ms::VersionRecord &version,
                         const QString &workspace, qint64 limit)
{
    ms::DatasetOptions options =
        ms::trainingDataOf(version, parser.value(QStringLiteral("dataset")));
    if (options.source.isEmpty())
        throw ms::Error(QStringLiteral("%1 records no dataset (it was imported); give one with "
                                       "--dataset.")
                            .arg(version.ref()));
    // The whole test split in file order: sample N is the N-th image of the file.
    options.limit = limit;
    options.maxFeatureBytes = ms::Limits::maxDatasetBytes(workspace);
    return ms::DatasetRegistry::instance().load(options);
}

QString classText(const QStringList &names, int index)
{
    const QString name = names.value(index);
    return name.isEmpty() || name == QString::number(index)
        ? QString::number(index)
        : QStringLiteral("%1 %2").arg(QString::number(index), name);
}

void printExplanation(const ms::Explanation &e, const QStringList &names, const QString &what)
{
    const int predicted = e.predicted();
    printLine(QStringLiteral("%1 predicts %2 (%3 %) for %4")
                  .arg(e.version, classText(names, predicted),
                       QString::number(100.0 * e.probabilities[size_t(predicted)], 'f', 1), what));
    std::vector<int> order(e.probabilities.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&e](int a, int b) {
        return e.probabilities[size_t(a)] > e.probabilities[size_t(b)];
    });
    QStringList top;
    for (size_t i = 0; i < std::min<size_t>(5, order.size()); ++i)
        top << QStringLiteral("%1 %2 %").arg(
            classText(names, order[i]),
            QString::number(100.0 * e.probabilities[size_t(order[i])], 'f', 1));
    printLine(QStringLiteral("top 5: %1").arg(top.join(QStringLiteral(", "))));
    QString line = QStringLiteral("%1 of class %2, %3 evaluations")
                       .arg(e.method, classText(names, e.target), QString::number(e.evaluations));
    if (!std::isnan(e.completenessGap))
        line += QStringLiteral("; completeness gap %1 % (f(x) - f(black) = %2)")
                    .arg(QString::number(100.0 * e.completenessGap, 'f', 2),
                         QString::number(e.outputDelta, 'g', 5));
    printLine(line);
}

int runExplain(const QStringList &arguments)
{
    QCommandLineParser parser;
    addExplainOptions(parser);
    int code = Ok;
    if (!parse(parser, QStringLiteral("explain"),
               QStringLiteral("Explain one prediction of a version with an attribution map: "
                              "which input pixels raise (or lower) the score of the target "
                              "class. --json prints one object with the probabilities and the "
                              "attributions (C*H*W floats, row-major)."),
               arguments, &code))
        return code;
    const QString usage =
        QStringLiteral("explain REF (--sample N [--dataset D] | --input IMAGE) [--method M]");
    if (!expectArguments(parser, QStringLiteral("explain"), usage, 1, 1, &code))
        return code;
    const bool bySample = parser.isSet(QStringLiteral("sample"));
    if (bySample == parser.isSet(QStringLiteral("input")))
        return fail(QStringLiteral("explain needs one of --sample N or --input IMAGE. Usage: "
                                   "modelstudio-cli %1")
                        .arg(usage),
                    Usage);
    ms::ExplainOptions options;
    qint64 sampleIndex = 0;
    double opacity = 0.7;
    int threads = 1;
    try {
        options = readExplainOptions(parser);
        sampleIndex = wholeNumber(parser, QStringLiteral("sample"), 0);
        if (sampleIndex < 0)
            throw ms::Error(QStringLiteral("--sample is a test sample's index (0 or more), not "
                                           "%1.")
                                .arg(sampleIndex));
        opacity = realNumber(parser, QStringLiteral("opacity"), opacity);
        if (opacity < 0.0 || opacity > 1.0)
            throw ms::Error(QStringLiteral("--opacity is between 0 and 1, not %1.").arg(opacity));
        threads = int(wholeNumber(parser, QStringLiteral("threads"), 1));
        ms::Runtime::checkThreads(threads, QStringLiteral("Threads (--threads)"), 1);
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }

    const ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord version = registry.resolve(parser.positionalArguments().first());
    const ms::Explainer explainer = ms::Explainer::open(registry, version);
    ms::Model::setComputeThreads(threads);

    std::vector<float> input;
    std::vector<qint64> shape;
    QString what;
    if (bySample) {
        if (!explainer.sampleShape().empty())
            explainer.check(explainer.sampleShape(), options); // refused before reading data
        const ms::Dataset data = loadTestData(
            parser, version, ms::Workspace::resolve(parser.value(QStringLiteral("workspace"))), 0);
        ms::checkDataFitsModel(explainer.sampleShape(), explainer.classCount(), version.ref(),
                               data.sampleShape, data.numClasses(),
                               QStringLiteral("the dataset %1").arg(data.name));
        if (sampleIndex >= data.test.count())
            return fail(QStringLiteral("--sample %1 is out of range: the test split of %2 has %3 "
                                       "samples (0 to %4).")
                            .arg(QString::number(sampleIndex), data.name,
                                 QString::number(data.test.count()),
                                 QString::number(data.test.count() - 1)),
                        Usage);
        const qint64 size = data.sampleSize();
        input.assign(data.test.features.begin() + sampleIndex * size,
                     data.test.features.begin() + (sampleIndex + 1) * size);
        shape = data.sampleShape;
        const int label = int(data.test.labels[size_t(sampleIndex)]);
        what = QStringLiteral("test sample %1 of %2 (label %3)")
                   .arg(QString::number(sampleIndex), data.name, classText(data.classNames, label));
    } else {
        const QString path = parser.value(QStringLiteral("input"));
        const ImageSample image = readImage(path, explainer.sampleShape(), version.ref(),
                                            parser.isSet(QStringLiteral("resize")));
        input = image.values;
        shape = image.shape;
        what = path;
    }
    const ms::Explanation explanation = explainer.explain(input, shape, options);
    if (parser.isSet(QStringLiteral("out")))
        writeHeatMap(parser.value(QStringLiteral("out")), input, explanation.attributions,
                     explanation.shape, opacity);
    if (wantsJson(parser)) {
        printJsonLine(explanation.toJson());
        return Ok;
    }
    printExplanation(explanation, explainer.classNames(), what);
    if (parser.isSet(QStringLiteral("out")))
        printLine(QStringLiteral("map written to %1").arg(parser.value(QStringLiteral("out"))));
    return Ok;
}

int runDisagree(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("A"), refHelp());
    parser.addPositionalArgument(QStringLiteral("B"),
                                 QStringLiteral("The version to set "
                                                "against A."));
    parser.addOptions({
        {QStringLiteral("dataset"),
         QStringLiteral("Compare on this dataset's test split (default: the one A, else B, "
                        "was trained on)."),
         QStringLiteral("D")},
        {QStringLiteral("limit"),
         QStringLiteral("Compare on the first N test samples only (default: all)."),
         QStringLiteral("N")},
        {QStringLiteral("threads"), QStringLiteral("Compute threads (default: all cores)."),
         QStringLiteral("N")},
    });
    int code = Ok;
    if (!parse(parser, QStringLiteral("disagree"),
               QStringLiteral("List the test samples two versions predict differently (index, "
                              "label, each one's prediction and confidence), with counts per "
                              "true class."),
               arguments, &code))
        return code;
    if (!expectArguments(parser, QStringLiteral("disagree"),
                         QStringLiteral("disagree A B [--dataset D]"), 2, 2, &code))
        return code;
    qint64 limit = 0;
    int threads = 0;
    try {
        limit = wholeNumber(parser, QStringLiteral("limit"), 0);
        if (limit < 0)
            throw ms::Error(QStringLiteral("--limit is 0 (all) or more, not %1.").arg(limit));
        threads = int(wholeNumber(parser, QStringLiteral("threads"), 0));
        ms::Runtime::checkThreads(threads, QStringLiteral("Threads (--threads)"));
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
    openRegistry(parser); // the workspace made when missing, as every verb does
    const QString workspace = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    if (threads > 0)
        ms::Model::setComputeThreads(threads);
    // What the Compare panel's explorer runs too (ms::DisagreementJob).
    const ms::Disagreement d =
        ms::disagreeOnTestSplit(workspace, parser.positionalArguments().at(0),
                                parser.positionalArguments().at(1),
                                parser.value(QStringLiteral("dataset")), limit)
            .result;
    if (wantsJson(parser)) {
        printJsonLine(d.toJson());
        return Ok;
    }
    QList<QStringList> rows;
    for (qint64 i : d.indices) {
        const size_t k = size_t(i);
        const auto cell = [&d](const ms::SamplePrediction &p) {
            return QStringLiteral("%1 (%2 %)")
                .arg(classText(d.classNames, p.predicted),
                     QString::number(100.0 * p.confidence, 'f', 1));
        };
        rows << QStringList{QString::number(i), classText(d.classNames, int(d.labels[k])),
                            cell(d.predictionsA[k]), cell(d.predictionsB[k])};
    }
    if (!rows.isEmpty())
        printLine(table({QStringLiteral("INDEX"), QStringLiteral("LABEL"), d.a, d.b}, rows));
    const QJsonObject summary = d.toJson();
    printLine(
        QStringLiteral("%1 of %2 test samples of %3 differ; %4 right only: %5, %6 right "
                       "only: %7")
            .arg(QString::number(d.indices.size()), QString::number(d.count), d.dataset, d.a,
                 QString::number(summary.value(QStringLiteral("only_a_correct")).toInteger()), d.b,
                 QString::number(summary.value(QStringLiteral("only_b_correct")).toInteger())));
    QList<QStringList> perClass;
    const std::vector<qint64> differ = d.disagreementsPerClass();
    const std::vector<qint64> total = d.samplesPerClass();
    for (size_t c = 0; c < differ.size(); ++c)
        perClass << QStringList{classText(d.classNames, int(c)), QString::number(differ[c]),
                                QString::number(total[c])};
    printLine(
        table({QStringLiteral("TRUE CLASS"), QStringLiteral("DIFFER"), QStringLiteral("SAMPLES")},
              perClass));
    return Ok;
}

} // namespace

QList<Command> explainCommands()
{
    return {{QStringLiteral("explain"),
             QStringLiteral("Attribution map of one prediction (integrated gradients, ...)"),
             runExplain},
            {QStringLiteral("disagree"),
             QStringLiteral("Test samples two versions predict differently"), runDisagree}};
}

} // namespace cli
