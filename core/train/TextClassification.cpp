#include "train/TextClassification_p.h"

#include "common/Error.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/ModelBuilder_p.h"
#include "models/ModelImpl_p.h"
#include "models/TextClassifierSpec.h"
#include "registry/Registry.h"

#include <QJsonDocument>
#include <QLocale>

#include <algorithm>

namespace ms {

namespace {

QString compact(const QJsonObject &json)
{
    return QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact));
}

} // namespace

Model buildTextClassifier(const QJsonObject &specJson, const QJsonObject &tokenizer,
                          const QStringList &classNames, quint64 seed)
{
    const QString name = specJson.value(QLatin1String("name")).toString(QStringLiteral("custom"));
    try {
        TextClassifierSpec spec = TextClassifierSpec::fromJson(specJson);
        const int vocab = tokenizer.value(QStringLiteral("vocab_size")).toInt();
        if (vocab <= 0)
            throw Error(QStringLiteral("a text classifier needs a tokenizer (its vocabulary)"));
        if (spec.vocabSize > 0 && spec.vocabSize != vocab)
            throw Error(QStringLiteral("the spec fixes vocab_size %1 but the tokenizer has %2 "
                                       "symbols").arg(spec.vocabSize).arg(vocab));
        spec.vocabSize = vocab;
        if (spec.numClasses <= 0)
            spec.numClasses = int(classNames.size());
        if (spec.numClasses != classNames.size())
            throw Error(QStringLiteral("the spec has %1 classes but the data %2")
                            .arg(spec.numClasses).arg(classNames.size()));
        auto impl = std::make_shared<Model::Impl>();
        impl->module = buildTextClassifierModule(spec, tokenizer, classNames, seed);
        Model model = Model::fromImpl(impl);
        // Compiled source can still fail on real tensors: find out before the first step.
        const bool training = impl->module.is_training();
        impl->module.eval();
        at::NoGradGuard noGrad;
        const at::Tensor out = impl->module.forward({at::zeros({2, 3}, at::kLong)}).toTensor();
        if (training)
            impl->module.train();
        if (out.dim() != 2 || out.size(0) != 2 || out.size(1) != spec.numClasses)
            throw Error(QStringLiteral("the forward pass returns shape %1 instead of 2x%2")
                            .arg(QString::fromStdString(c10::str(out.sizes())))
                            .arg(spec.numClasses));
        return model;
    } catch (const Error &e) {
        throw Error(QStringLiteral("Cannot build the model \"%1\": %2").arg(name, e.message()));
    } catch (const std::exception &e) {
        throw Error(QStringLiteral("Cannot build the model \"%1\": TorchScript refused it: %2")
                        .arg(name, QString::fromLocal8Bit(e.what()).section(QLatin1Char('\n'),
                                                                             0, 2)));
    }
}

TextClassification::TextClassification(const TrainConfig &config)
    : m_config(config), m_tokenizer(Tokenizer::named(config.tokenizer))
{}

TextClassification::~TextClassification() = default;

void TextClassification::load(const DatasetOptions &options)
{
    m_data = TextDatasetRegistry::instance().load(options);
    if (m_data.numClasses() < 2)
        throw Error(QStringLiteral("The text dataset %1 has %2 class: a classifier needs two "
                                   "or more. Train a language model on it instead (--task lm "
                                   "--arch gpt).")
                        .arg(m_data.name, QString::number(m_data.numClasses())));
}

QJsonObject TextClassification::describeData() const
{
    QJsonObject json = m_data.describe();
    json.insert(QStringLiteral("tokenizer"), m_tokenizer->toJson());
    if (m_trainX.defined())
        json.insert(QStringLiteral("tokens_per_record"), qint64(m_trainX.size(1)));
    return json;
}

QString TextClassification::logLine() const
{
    const QLocale c = QLocale::c();
    return QStringLiteral("Text dataset %1: %2 train and %3 validation records in %4 classes "
                          "(%5 tokenizer, %6 symbols)")
        .arg(m_data.name, c.toString(m_data.train.count()), c.toString(m_data.validation.count()),
             QString::number(m_data.numClasses()), m_tokenizer->kind(),
             QString::number(m_tokenizer->vocabSize()));
}

QJsonObject TextClassification::resolveSpec() const
{
    const int classes = m_data.numClasses();
    const QJsonObject json =
        m_config.archSpec.isEmpty()
            ? ArchitectureRegistry::instance().resolve(m_config.arch, {}, classes,
                                                       m_config.archParams)
            : ArchSpec::fromJson(m_config.archSpec).boundTo({}, classes).toJson();
    if (!TextClassifierSpec::isTextClassifier(json))
        throw Error(QStringLiteral("The architecture \"%1\" cannot classify text: train "
                                   "--arch text-classifier on a text dataset (or a language "
                                   "model with --task lm --arch gpt).")
                        .arg(json.value(QStringLiteral("name")).toString(m_config.arch)));
    TextClassifierSpec spec = TextClassifierSpec::fromJson(json);
    if (spec.vocabSize > 0 && spec.vocabSize != m_tokenizer->vocabSize())
        throw Error(QStringLiteral("The spec fixes vocab_size %1 but the %2 tokenizer has %3 "
                                   "symbols; remove \"vocab_size\" from the spec.")
                        .arg(QString::number(spec.vocabSize), m_tokenizer->kind(),
                             QString::number(m_tokenizer->vocabSize())));
    spec.vocabSize = m_tokenizer->vocabSize();
    return spec.toJson();
}

Model TextClassification::build(const QJsonObject &spec, quint64 seed)
{
    Model model = buildTextClassifier(spec, m_tokenizer->toJson(), m_data.classNames, seed);
    const TextClassifierSpec s = TextClassifierSpec::fromJson(spec);
    tokenize(s.blockSize, s.vocabSize);
    return model;
}

void TextClassification::checkModel(const Model &model, const QString &what)
{
    const QJsonObject spec = model.spec();
    if (!TextClassifierSpec::isTextClassifier(spec))
        throw Error(QStringLiteral("%1 is not a text classifier; it cannot continue this run.")
                        .arg(what));
    if (model.tokenizer() != m_tokenizer->toJson())
        throw Error(QStringLiteral("%1 reads tokens of the tokenizer %2, but this run's data is "
                                   "tokenized by %3.")
                        .arg(what, compact(model.tokenizer()), compact(m_tokenizer->toJson())));
    if (model.classNames() != m_data.classNames)
        throw Error(QStringLiteral("%1 has the classes %2, but the data has %3.")
                        .arg(what, model.classNames().join(QStringLiteral(", ")),
                             m_data.classNames.join(QStringLiteral(", "))));
    const TextClassifierSpec s = TextClassifierSpec::fromJson(spec);
    tokenize(s.blockSize, s.vocabSize);
}

// Every record cut to blockSize tokens; both splits padded with padId to the longest record of
// either, so training and validation batches have one width.
void TextClassification::tokenize(int blockSize, int padId)
{
    std::vector<std::vector<qint64>> train, val;
    int64_t width = 1;
    for (auto [split, out] : {std::pair{&m_data.train, &train}, std::pair{&m_data.validation, &val}}) {
        for (const QByteArray &record : split->records) {
            std::vector<qint64> ids = m_tokenizer->encode(record);
            if (ids.size() > size_t(blockSize))
                ids.resize(size_t(blockSize));
            width = std::max<int64_t>(width, int64_t(ids.size()));
            out->push_back(std::move(ids));
        }
    }
    auto pack = [width, padId](const std::vector<std::vector<qint64>> &rows) {
        at::Tensor x = at::full({int64_t(rows.size()), width}, int64_t(padId), at::kLong);
        int64_t *p = x.data_ptr<int64_t>();
        for (size_t r = 0; r < rows.size(); ++r)
            std::copy(rows[r].begin(), rows[r].end(), p + int64_t(r) * width);
        return x;
    };
    auto labels = [](const TextSplit &split) {
        std::vector<int64_t> y(split.labels.begin(), split.labels.end());
        return at::tensor(y, at::kLong);
    };
    m_trainX = pack(train);
    m_valX = pack(val);
    m_trainY = labels(m_data.train);
    m_valY = labels(m_data.validation);
}

void TextClassification::describeVersion(NewVersion &version, const QJsonObject &spec) const
{
    const TextClassifierSpec s = TextClassifierSpec::fromJson(spec);
    version.modelDescription = QStringLiteral("Text classifier trained from the %1 "
                                              "architecture on %2 (%3 tokenizer)")
                                   .arg(s.name, m_data.name, m_tokenizer->kind());
    TensorSignature tokens(QStringLiteral("tokens"), QStringLiteral("int64"), {-1, -1});
    tokens.exampleShape = {1, qint64(s.blockSize)};
    tokens.vocabSize = s.vocabSize + 1;   // the padding id included
    version.inputs = {tokens};
    version.outputs = {TensorSignature{QStringLiteral("logits"), QStringLiteral("float32"),
                                       {-1, qint64(s.numClasses)}}};
    version.classNames = m_data.classNames;
}

} // namespace ms
