#pragma once

// Private: distillation of a language model (a gpt teacher into a smaller gpt student), the
// part of the distill method that is particular to language models. Core .cpp files only.

#include "compress/CompressionMethod.h"

#include <QString>

namespace ms {

class JobContext;

namespace distill {

// check() for a gpt teacher and a fresh student (--student-arch): the student must be a gpt of
// the teacher's vocabulary with a context (block_size) no longer than the teacher's, which
// scores every window the student trains on. Throws ms::Error naming both values.
void checkLmStudentArch(const Model &teacher, const QString &teacherRef, const QString &arch);
// checkInput() for a gpt teacher and a student version: a language model reading the same
// tokenizer, with a context no longer than the teacher's.
void checkLmStudent(const Model &teacher, const QString &teacherRef, const Model &student,
                    const QString &studentRef);

// Trains the student on the teacher's text (input.text) with the training loop of `train
// --task lm` (the same random windows, optimizer, schedule and clipping for the same settings)
// on alpha * T^2 * KL(teacher/T || student/T) + (1 - alpha) * next-token cross-entropy, per
// position, the KL over the vocabulary. `out` carries the details distill records already.
// Returns a null model when cancelled.
CompressOutput distillLanguageModel(CompressInput &input, JobContext &context, double T,
                                    double alpha, CompressOutput out);

} // namespace distill
} // namespace ms
