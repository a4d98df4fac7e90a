#pragma once

// The C interface of libmodelstudio-spm.so, the one library of ours that links SentencePiece
// (Debian's libsentencepiece0). Nothing links it: the core opens it with dlopen(RTLD_NOW |
// RTLD_LOCAL | RTLD_DEEPBIND) when a spm-bpe or spm-unigram tokenizer is first needed
// (core/data/SentencePieceTokenizer.cpp). Why: libsentencepiece.so.0 exports its own copy of
// protobuf-lite (1,602 protobuf symbols), and linked into a studio binary it interposes
// LibTorch's libprotobuf.so.32 during that library's static initialisation, so every binary
// crashed at load (docs/architecture.md, "Measured here"). Loaded locally with its own symbols
// first, SentencePiece sees only its protobuf and LibTorch only its own (RTLD_LOCAL alone is not
// enough: SentencePiece's code then binds to LibTorch's protobuf 3.21 and aborts on its version
// check).
//
// Plain C types only, so that no C++ object crosses the boundary. Every buffer the library
// returns is freed with ms_spm_free_buffer; every error is a text to free the same way.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bumped when a signature below changes: the core refuses a library of another version.
#define MS_SPM_API_VERSION 1

// The module builds with hidden visibility: these functions are all it exports.
#define MS_SPM_EXPORT __attribute__((visibility("default")))

typedef struct ms_spm ms_spm;   // a loaded SentencePiece model

MS_SPM_EXPORT int ms_spm_api_version(void);

// Trains a model of `model_type` ("bpe" or "unigram") with `vocab_size` pieces on `count`
// records (each one sentence, any bytes, `lengths` bytes long), deterministically for `seed`.
// On success returns 0 and the serialized ModelProto in *model / *model_size; else non-zero
// and *error.
MS_SPM_EXPORT int ms_spm_train(const char *const *records, const size_t *lengths,
                               size_t count, const char *model_type, int vocab_size,
                               unsigned seed, char **model, size_t *model_size, char **error);

// Loads a serialized ModelProto; null and *error when it is not one.
MS_SPM_EXPORT ms_spm *ms_spm_load(const char *model, size_t model_size, char **error);
MS_SPM_EXPORT void ms_spm_free(ms_spm *spm);

MS_SPM_EXPORT int ms_spm_vocab_size(const ms_spm *spm);

// UTF-8 text (any bytes) to piece ids: 0 and *ids / *count (ms_spm_free_buffer), or non-zero
// and *error.
MS_SPM_EXPORT int ms_spm_encode(const ms_spm *spm, const char *text, size_t size, int **ids,
                                size_t *count, char **error);

// Piece ids to bytes, piece by piece (see the implementation: an incomplete UTF-8 sequence of
// byte pieces stays bytes): 0 and *text / *size, or non-zero and *error (an id outside the
// vocabulary).
MS_SPM_EXPORT int ms_spm_decode(const ms_spm *spm, const int *ids, size_t count, char **text,
                                size_t *size, char **error);

MS_SPM_EXPORT void ms_spm_free_buffer(void *buffer);

#ifdef __cplusplus
}
#endif
