#pragma once

// What the registry verbs share: opening the workspace's registry, checking positional
// arguments, and the text forms of a version's fields (one spelling everywhere).

#include "registry/Registry.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QJsonObject>
#include <QJsonValue>
#include <QMap>
#include <QString>

#include <vector>

namespace cli {

// The help text of a REF argument: NAME:VERSION, NAME@ALIAS or NAME.
QString refHelp();
bool wantsJson(const QCommandLineParser &parser);   // --json given

// The verb in DiffCommand.cpp, listed with the other reading verbs.
int runDiffCommand(const QStringList &arguments);

// The registry of the workspace --workspace names (else the default), created when new.
ms::Registry openRegistry(const QCommandLineParser &parser);

// Fails with a usage error (and returns false) unless the verb got min..max positional
// arguments (max < 0: no upper bound).
bool expectArguments(const QCommandLineParser &parser, const QString &verb, const QString &usage,
                     int min, int max, int *exitCode);

QString dateText(const QDateTime &time);          // "2024-05-01 10:22", local time
QString countText(qint64 count);                  // "235,146"
QString signatureText(const ms::TensorSignature &tensor); // "input float32 [N, 4]"
QString signatureText(const ms::Signature &signature);    // several joined by "; "
bool isAccuracyKey(const QString &key);
// "test_acc_delta": a difference of accuracies, shown in percentage points.
bool isAccuracyDeltaKey(const QString &key);
bool isWholeNumber(double value);
QString pointsText(double fraction);                     // 0.0123 -> "+1.23 pp"
// Accuracies as "91.23%", their deltas as "+1.23 pp", whole numbers as counts ("2,206,794"),
// anything else with five significant digits.
QString metricText(const QString &key, double value);
// test_acc, else val_acc, as a percentage; "-" when the version has neither.
QString accuracyText(const QJsonObject &metrics);
QString tagsText(const QMap<QString, QString> &tags);    // "k=v, k2=v2"
QString compactJson(const QJsonValue &value);

// "  label       value" lines; continuation lines of a multi-line value are indented too.
QString fieldLine(const QString &label, const QString &value);

// {"parent": "name:1", "child": "name:2", "role": "finetuned-from"}
QJsonObject lineageEdgeToJson(const ms::LineageEdge &edge);

} // namespace cli
