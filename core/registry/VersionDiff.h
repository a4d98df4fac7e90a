#pragma once

#include "registry/Registry.h"

#include <QJsonValue>
#include <QString>
#include <QVector>

#include <optional>

namespace ms {

// One compared field of two versions. `field` names it the way `modelstudio-cli diff` prints
// it: "kind", "created", "sha256", "params", "size", "inputs", "outputs", "classes",
// "metrics.<key>", "recipe.<dotted.key>", or "recipe" alone when every recipe setting is equal.
struct VersionDiffField
{
    enum class Section { Record, Metric, Recipe };

    Section section = Section::Record;
    QString field;
    QJsonValue a;                   // Undefined when A lacks it (a recipe key only B has)
    QJsonValue b;
    bool same = false;
    std::optional<double> delta;    // b - a when both sides are numbers
};

// The comparison behind `modelstudio-cli diff` and the Versions panel's Diff: the record's
// fields (always listed, same or not), every metric either side has, and the recipe settings
// that differ, nested recipe objects flattened to dotted keys so a row names the exact setting.
// Pure data: each front-end words the values its own way.
QVector<VersionDiffField> diffVersions(const VersionRecord &a, const VersionRecord &b);

} // namespace ms
