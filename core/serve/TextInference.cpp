// v2 requests to versions that read text (issue 19): BYTES inputs tokenized with the version's
// own tokenizer, and a language model's answer to a v2 request, the logits of the last
// position of each sequence (the next token's distribution: what a client would sample from,
// and one row per sequence as every v2 answer of the server is).

#include "InferenceService_p.h"

#include "common/Error.h"

#include <QMap>

namespace ms {

namespace {

// The last position's logits of each sequence, in request order. Sequences of one length run
// as one batch; a gpt is never fed padding (TextInput.h says why).
std::vector<float> lastLogits(const LanguageModel &lm,
                              const std::vector<std::vector<qint64>> &sequences)
{
    const size_t vocab = size_t(lm.vocabSize());
    std::vector<float> out(sequences.size() * vocab);
    QMap<size_t, std::vector<size_t>> byLength;
    for (size_t i = 0; i < sequences.size(); ++i)
        byLength[sequences[i].size()].push_back(i);
    for (auto it = byLength.cbegin(); it != byLength.cend(); ++it) {
        const size_t length = it.key();
        const std::vector<size_t> &rows = it.value();
        std::vector<qint64> tokens;
        tokens.reserve(rows.size() * length);
        for (size_t row : rows)
            tokens.insert(tokens.end(), sequences[row].begin(), sequences[row].end());
        const std::vector<float> logits = lm.logits(tokens, qint64(rows.size()));
        for (size_t r = 0; r < rows.size(); ++r) {
            const float *last = logits.data() + ((r + 1) * length - 1) * vocab;
            std::copy(last, last + vocab, out.begin() + qsizetype(rows[r] * vocab));
        }
    }
    return out;
}

} // namespace

bool InferenceService::Private::tokenizeTexts(Exchange &ex, const Version &version,
                                              protocol::InferInput &input,
                                              std::vector<std::vector<qint64>> &sequences)
{
    try {
        for (size_t i = 0; i < input.texts.size(); ++i)
            sequences.push_back(version.text->encode(
                input.texts[i], QStringLiteral("input \"%1\": text %2")
                                    .arg(input.inputName, QString::number(i))));
        input.texts.clear();
        if (!version.lm) {
            qint64 width = 0;
            input.tokens = version.text->padded(sequences, &width);
            input.shape = {qint64(sequences.size()), width};
            input.integer = true;
            sequences.clear();
        }
        return true;
    } catch (const Error &e) {
        respondError(ex, 400, e.message());
        return false;
    }
}

void InferenceService::Private::inferLanguageModel(Exchange &ex, Version *version,
                                                   protocol::InferInput &&input,
                                                   std::vector<std::vector<qint64>> &&sequences)
{
    if (!input.text) {   // INT64/INT32 ids [N, T]: the rows
        const qint64 batch = input.batch();
        const qint64 length = batch > 0 ? qint64(input.tokens.size()) / batch : 0;
        if (length > version->info.contextTokens) {
            respondError(ex, 400,
                         QStringLiteral("input \"%1\": sequences of %2 tokens are longer than "
                                        "the context of model \"%3\" (%4 tokens): shorten them")
                             .arg(input.inputName, QString::number(length), ex.model,
                                  QString::number(version->info.contextTokens)));
            return;
        }
        for (qint64 row = 0; row < batch; ++row)
            sequences.emplace_back(input.tokens.begin() + row * length,
                                   input.tokens.begin() + (row + 1) * length);
        input.tokens = std::vector<qint64>();
    }
    input.shape = {qint64(sequences.size())};   // the reply's rows
    ModelBatcher::Request job;
    job.shape = input.shape;
    job.compute = [lm = version->lm, sequences = std::move(sequences)]() {
        BatchResult result;
        try {
            result.logits = lastLogits(*lm, sequences);
            result.numOutputs = lm->vocabSize();
            result.ok = true;
        } catch (const Error &e) {
            result.status = 400;   // the model's own refusal (an id its embedding lacks)
            result.error = e.message();
        }
        return result;
    };
    const QString name = version->info.name;
    const int number = version->info.version;
    enqueue(ex, version, std::move(job),
            [input = std::move(input), name, number](BatchResult &result) {
                return jsonBytes(protocol::v2InferResponse(name, number, input, result.logits));
            });
}

} // namespace ms
