// libmodelstudio-spm.so: SentencePiece behind the C interface of SpmApi.h. The only file of the
// studio that includes SentencePiece's headers or links its library (why: SpmApi.h). No Qt
// here either: the module needs nothing but SentencePiece and the C++ runtime.

#include "spm/SpmApi.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct ms_spm
{
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

char *copyOut(const std::string &text)
{
    char *buffer = static_cast<char *>(std::malloc(text.size() + 1));
    if (buffer) {
        std::memcpy(buffer, text.data(), text.size());
        buffer[text.size()] = '\0';
    }
    return buffer;
}

int fail(char **error, const std::string &message)
{
    if (error)
        *error = copyOut(message);
    return 1;
}

// The records as SentencePiece's sentences: each record one "sentence" (a record may span
// lines; max_sentence_length below lets it). Empty records are skipped.
class RecordIterator final : public sentencepiece::SentenceIterator
{
public:
    RecordIterator(const char *const *records, const size_t *lengths, size_t count)
        : m_records(records), m_lengths(lengths), m_count(count)
    {
        skipEmpty();
    }
    bool done() const override { return m_index >= m_count; }
    void Next() override
    {
        ++m_index;
        skipEmpty();
    }
    const std::string &value() const override { return m_value; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    void skipEmpty()
    {
        while (m_index < m_count && m_lengths[m_index] == 0)
            ++m_index;
        if (m_index < m_count)
            m_value.assign(m_records[m_index], m_lengths[m_index]);
    }

    const char *const *m_records;
    const size_t *m_lengths;
    size_t m_count;
    size_t m_index = 0;
    std::string m_value;
};

// A byte piece's text is "<0xNN>".
char bytePiece(const std::string &piece)
{
    return char(std::strtol(piece.substr(3, 2).c_str(), nullptr, 16));
}

} // namespace

extern "C" {

int ms_spm_api_version(void)
{
    return MS_SPM_API_VERSION;
}

int ms_spm_train(const char *const *records, const size_t *lengths, size_t count,
                 const char *model_type, int vocab_size, unsigned seed, char **model,
                 size_t *model_size, char **error)
{
    try {
        // lm_peer.py's settings (but add_dummy_prefix): every character covered, bytes as the
        // fallback for the rest, "\n" a piece of its own and no normalization, so any text
        // round-trips exactly.
        const std::unordered_map<std::string, std::string> args{
            {"model_type", model_type},
            {"vocab_size", std::to_string(vocab_size)},
            {"character_coverage", "1.0"},
            {"byte_fallback", "true"},
            {"num_threads", "1"},
            {"user_defined_symbols", "\n"},
            // No "▁" before a text's first word: decoding piece by piece (ms_spm_decode) then
            // gives the text back exactly, first word included.
            {"add_dummy_prefix", "false"},
            {"normalization_rule_name", "identity"},
            {"remove_extra_whitespaces", "false"},
            {"max_sentence_length", "65536"},
            {"minloglevel", "2"}};
        sentencepiece::SetRandomGeneratorSeed(seed);
        RecordIterator sentences(records, lengths, count);
        std::string proto;
        const auto status = sentencepiece::SentencePieceTrainer::Train(args, &sentences, &proto);
        if (!status.ok())
            return fail(error, status.ToString());
        *model = static_cast<char *>(std::malloc(proto.size()));
        if (!*model)
            return fail(error, "out of memory");
        std::memcpy(*model, proto.data(), proto.size());
        *model_size = proto.size();
        return 0;
    } catch (const std::exception &e) {
        return fail(error, e.what());
    }
}

ms_spm *ms_spm_load(const char *model, size_t model_size, char **error)
{
    try {
        auto spm = std::make_unique<ms_spm>();
        const auto status = spm->processor.LoadFromSerializedProto(
            std::string(model, model_size));
        if (!status.ok()) {
            fail(error, status.ToString());
            return nullptr;
        }
        return spm.release();
    } catch (const std::exception &e) {
        fail(error, e.what());
        return nullptr;
    }
}

void ms_spm_free(ms_spm *spm)
{
    delete spm;
}

int ms_spm_vocab_size(const ms_spm *spm)
{
    return spm->processor.GetPieceSize();
}

int ms_spm_encode(const ms_spm *spm, const char *text, size_t size, int **ids, size_t *count,
                  char **error)
{
    try {
        std::vector<int> pieces;
        const auto status = spm->processor.Encode(std::string(text, size), &pieces);
        if (!status.ok())
            return fail(error, status.ToString());
        *ids = static_cast<int *>(std::malloc(std::max<size_t>(1, pieces.size()) * sizeof(int)));
        if (!*ids)
            return fail(error, "out of memory");
        std::memcpy(*ids, pieces.data(), pieces.size() * sizeof(int));
        *count = pieces.size();
        return 0;
    } catch (const std::exception &e) {
        return fail(error, e.what());
    }
}

// Piece by piece, not through SentencePiece's Decode: that one turns an incomplete UTF-8
// sequence of byte pieces into U+FFFD, and generation decodes one token at a time (the core's
// Tokenizer::decode contract: the bytes may end inside a sequence). A piece's text is its
// surface with U+2581 as the space; a byte piece (<0xNN>) is its byte; control pieces (<s>,
// </s>) are no text; the unknown piece is " ⁇ " as SentencePiece writes it.
int ms_spm_decode(const ms_spm *spm, const int *ids, size_t count, char **text, size_t *size,
                  char **error)
{
    try {
        static const std::string kSpaceMark = "\xe2\x96\x81";   // U+2581
        const auto &processor = spm->processor;
        std::string bytes;
        for (size_t k = 0; k < count; ++k) {
            const int id = ids[k];
            if (id < 0 || id >= processor.GetPieceSize())
                return fail(error, "id " + std::to_string(id) + " outside the vocabulary");
            if (processor.IsControl(id))
                continue;
            if (processor.IsUnknown(id)) {
                bytes += " \xe2\x81\x87 ";
                continue;
            }
            const std::string &piece = processor.IdToPiece(id);
            if (processor.IsByte(id)) {
                bytes += bytePiece(piece);
                continue;
            }
            for (size_t at = 0; at < piece.size();) {
                if (piece.compare(at, kSpaceMark.size(), kSpaceMark) == 0) {
                    bytes += ' ';
                    at += kSpaceMark.size();
                } else {
                    bytes += piece[at++];
                }
            }
        }
        *text = static_cast<char *>(std::malloc(std::max<size_t>(1, bytes.size())));
        if (!*text)
            return fail(error, "out of memory");
        std::memcpy(*text, bytes.data(), bytes.size());
        *size = bytes.size();
        return 0;
    } catch (const std::exception &e) {
        return fail(error, e.what());
    }
}

void ms_spm_free_buffer(void *buffer)
{
    std::free(buffer);
}

} // extern "C"
