// Subword tokenizers from SentencePiece (Debian's libsentencepiece0), the library nanoGPT's
// successors and shared/peers/lm_peer.py use: BPE or unigram, trained on a training split.
// The trained model travels inside the tokenizer's JSON (base64 of SentencePiece's own
// serialized ModelProto), so an artifact that records its tokenizer is self-contained:
// generation, serving and Python rebuild the same tokenizer from the file alone.
//
// SentencePiece itself lives in libmodelstudio-spm.so (core/spm), opened here with dlopen:
// linked into a studio binary, libsentencepiece.so.0's own protobuf-lite crashed LibTorch's
// libprotobuf at load (core/spm/SpmApi.h says how; docs/architecture.md, "Measured here").

#include "data/Tokenizer.h"

#include "common/Error.h"
#include "spm/SpmApi.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QJsonObject>
#include <QLibrary>

#include <dlfcn.h>

#include <type_traits>

namespace ms {

namespace {

const char kModuleFile[] = "libmodelstudio-spm.so";

// Where the module is: $MODELSTUDIO_SPM_LIBRARY (a file) when set, else beside the library this
// code is in, libmodelstudio-core: build/lib in a build tree, lib/ of an installation.
QString modulePath()
{
    const QString overridden = qEnvironmentVariable("MODELSTUDIO_SPM_LIBRARY");
    if (!overridden.isEmpty())
        return overridden;
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&modulePath), &info) == 0 || !info.dli_fname)
        return QString::fromLatin1(kModuleFile);   // the loader's search path, then
    return QFileInfo(QString::fromLocal8Bit(info.dli_fname)).absolutePath() + QLatin1Char('/')
           + QLatin1String(kModuleFile);
}

// The module's functions, resolved once per process (the module is never unloaded).
struct SpmModule
{
    decltype(&ms_spm_train) train = nullptr;
    decltype(&ms_spm_load) load = nullptr;
    decltype(&ms_spm_free) free = nullptr;
    decltype(&ms_spm_vocab_size) vocabSize = nullptr;
    decltype(&ms_spm_encode) encode = nullptr;
    decltype(&ms_spm_decode) decode = nullptr;
    decltype(&ms_spm_free_buffer) freeBuffer = nullptr;
    QString error;   // why it is not there; empty when it is

    static const SpmModule &instance()
    {
        static const SpmModule module = open();
        return module;
    }

private:
    static SpmModule open();
};

SpmModule SpmModule::open()
{
    SpmModule m;
    const QString path = modulePath();
    const auto missing = [&](const QString &why) {
        m.error = QStringLiteral(
                      "The SentencePiece tokenizers (spm-bpe, spm-unigram) are not available: "
                      "%1 %2. Install Debian's libsentencepiece0 (scripts/setup.sh installs "
                      "libsentencepiece-dev for a build) and use a ModelStudio built with it, "
                      "whose lib folder holds %3; or choose --tokenizer byte.")
                      .arg(path, why, QLatin1String(kModuleFile));
        return m;
    };
    if (path.contains(QLatin1Char('/')) && !QFileInfo::exists(path))
        return missing(QStringLiteral("does not exist"));
    // Never unloaded (its functions stay in use); RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND: the
    // module and SentencePiece resolve their symbols in their own scope first, so SentencePiece's
    // protobuf-lite and LibTorch's libprotobuf never see each other.
    auto *library = new QLibrary(path);
    library->setLoadHints(QLibrary::ResolveAllSymbolsHint | QLibrary::DeepBindHint);
    if (!library->load())
        return missing(QStringLiteral("cannot be loaded (%1)").arg(library->errorString()));
    const auto resolve = [&](auto &function, const char *name) {
        function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(
            library->resolve(name));
        return function != nullptr;
    };
    decltype(&ms_spm_api_version) version = nullptr;
    if (!resolve(version, "ms_spm_api_version") || version() != MS_SPM_API_VERSION)
        return missing(QStringLiteral("is of another ModelStudio version (interface %1, this "
                                      "build needs %2)")
                           .arg(version ? version() : 0)
                           .arg(MS_SPM_API_VERSION));
    if (!resolve(m.train, "ms_spm_train") || !resolve(m.load, "ms_spm_load")
        || !resolve(m.free, "ms_spm_free") || !resolve(m.vocabSize, "ms_spm_vocab_size")
        || !resolve(m.encode, "ms_spm_encode") || !resolve(m.decode, "ms_spm_decode")
        || !resolve(m.freeBuffer, "ms_spm_free_buffer"))
        return missing(QStringLiteral("lacks a function (%1)").arg(library->errorString()));
    return m;
}

const SpmModule &module()
{
    const SpmModule &m = SpmModule::instance();
    if (!m.error.isEmpty())
        throw Error(m.error);
    return m;
}

// An error text from the module, freed.
QString takeError(char *error)
{
    const QString text = error ? QString::fromUtf8(error) : QStringLiteral("unknown error");
    if (error)
        module().freeBuffer(error);
    return text;
}

// spm-bpe -> bpe: SentencePiece's model_type.
QByteArray modelType(const QString &kind)
{
    return kind.mid(4).toLatin1();
}

class SentencePieceTokenizer final : public Tokenizer
{
public:
    SentencePieceTokenizer(QString kind, const QByteArray &modelProto)
        : m_kind(std::move(kind)), m_proto(modelProto)
    {
        char *error = nullptr;
        m_spm = module().load(modelProto.constData(), size_t(modelProto.size()), &error);
        if (!m_spm)
            throw Error(QStringLiteral("The %1 tokenizer's model cannot be read: %2.")
                            .arg(m_kind, takeError(error)));
        m_vocabSize = module().vocabSize(m_spm);
    }
    ~SentencePieceTokenizer() override { module().free(m_spm); }

    QString kind() const override { return m_kind; }
    int vocabSize() const override { return m_vocabSize; }

    std::vector<qint64> encode(const QByteArray &utf8) const override
    {
        int *ids = nullptr;
        size_t count = 0;
        char *error = nullptr;
        if (module().encode(m_spm, utf8.constData(), size_t(utf8.size()), &ids, &count,
                            &error) != 0)
            throw Error(QStringLiteral("The %1 tokenizer cannot encode this text: %2.")
                            .arg(m_kind, takeError(error)));
        std::vector<qint64> tokens(ids, ids + count);
        module().freeBuffer(ids);
        return tokens;
    }

    QByteArray decode(const std::vector<qint64> &ids) const override
    {
        std::vector<int> pieces(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            if (ids[i] < 0 || ids[i] >= m_vocabSize)
                throw Error(QStringLiteral("Token id %1 is outside the %2 tokenizer's "
                                           "vocabulary of %3 (ids 0-%4).")
                                .arg(QString::number(ids[i]), m_kind,
                                     QString::number(m_vocabSize),
                                     QString::number(m_vocabSize - 1)));
            pieces[i] = int(ids[i]);
        }
        char *text = nullptr;
        size_t size = 0;
        char *error = nullptr;
        if (module().decode(m_spm, pieces.data(), pieces.size(), &text, &size, &error) != 0)
            throw Error(QStringLiteral("The %1 tokenizer cannot decode these ids: %2.")
                            .arg(m_kind, takeError(error)));
        QByteArray bytes(text, qsizetype(size));
        module().freeBuffer(text);
        return bytes;
    }

    QJsonObject toJson() const override
    {
        QJsonObject json = describe();
        json.insert(QStringLiteral("model"), QString::fromLatin1(m_proto.toBase64()));
        return json;
    }

    QJsonObject describe() const override
    {
        return QJsonObject{
            {QStringLiteral("kind"), m_kind},
            {QStringLiteral("vocab_size"), m_vocabSize},
            {QStringLiteral("library"), QStringLiteral("sentencepiece")},
            {QStringLiteral("model_sha256"),
             QString::fromLatin1(
                 QCryptographicHash::hash(m_proto, QCryptographicHash::Sha256).toHex())}};
    }

private:
    QString m_kind;
    QByteArray m_proto;
    ms_spm *m_spm = nullptr;
    int m_vocabSize = 0;
};

} // namespace

void checkSentencePiece()
{
    module();
}

std::unique_ptr<Tokenizer> makeSentencePiece(const QString &kind, const QByteArray &modelProto)
{
    return std::make_unique<SentencePieceTokenizer>(kind, modelProto);
}

std::unique_ptr<Tokenizer> trainSentencePiece(const QString &kind, int vocabSize,
                                              const std::vector<QByteArray> &records,
                                              quint64 seed)
{
    std::vector<const char *> texts(records.size());
    std::vector<size_t> lengths(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
        texts[i] = records[i].constData();
        lengths[i] = size_t(records[i].size());
    }
    char *proto = nullptr;
    size_t protoSize = 0;
    char *error = nullptr;
    if (module().train(texts.data(), lengths.data(), texts.size(), modelType(kind).constData(),
                       vocabSize, unsigned(seed), &proto, &protoSize, &error) != 0)
        throw Error(QStringLiteral("Training the %1 tokenizer (%2 symbols) failed: %3. Choose a "
                                   "--vocab-size that fits the text (SentencePiece's reason says "
                                   "which way: every character of the text needs a piece), or "
                                   "train on more text (a larger --limit).")
                        .arg(kind, QString::number(vocabSize), takeError(error)));
    const QByteArray model(proto, qsizetype(protoSize));
    module().freeBuffer(proto);
    return makeSentencePiece(kind, model);
}

} // namespace ms
