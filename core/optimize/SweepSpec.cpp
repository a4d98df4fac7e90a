#include "optimize/SweepSpec.h"

#include "common/Error.h"
#include "models/ArchitectureRegistry.h"
#include "train/TrainConfig.h"

#include <QSet>

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

const QString kArchPrefix = QStringLiteral("arch.");

struct KindName
{
    ParamDomain::Kind kind;
    const char *name;
};

constexpr KindName kKinds[] = {
    {ParamDomain::Kind::Uniform, "uniform"},
    {ParamDomain::Kind::LogUniform, "log_uniform"},
    {ParamDomain::Kind::IntUniform, "int_uniform"},
    {ParamDomain::Kind::IntLogUniform, "int_log_uniform"},
    {ParamDomain::Kind::Choice, "choice"},
};

QString kindNames()
{
    QStringList names;
    for (const KindName &k : kKinds)
        names << QLatin1String(k.name);
    return names.join(QStringLiteral(", "));
}

[[noreturn]] void fail(const QString &field, const QString &what)
{
    throw Error(QStringLiteral("Sweep file, \"%1\": %2").arg(field, what));
}

ParamDomain parseDomain(const QString &path, const QJsonValue &value)
{
    const QString field = QStringLiteral("space.") + path;
    if (!value.isObject() || value.toObject().size() != 1)
        fail(field, QStringLiteral("give one distribution, e.g. {\"log_uniform\": [1e-4, 1e-2]} "
                                   "(distributions: %1).").arg(kindNames()));
    const QString kind = value.toObject().begin().key();
    const QJsonValue args = value.toObject().begin().value();
    ParamDomain d;
    d.path = path;
    const KindName *found = nullptr;
    for (const KindName &k : kKinds)
        if (kind == QLatin1String(k.name))
            found = &k;
    if (!found)
        fail(field, QStringLiteral("unknown distribution \"%1\"; use one of %2.")
                        .arg(kind, kindNames()));
    d.kind = found->kind;
    if (!args.isArray())
        fail(field, QStringLiteral("\"%1\" takes a list.").arg(kind));
    const QJsonArray list = args.toArray();
    if (d.kind == ParamDomain::Kind::Choice) {
        if (list.isEmpty())
            fail(field, QStringLiteral("the choice is empty; list at least one value."));
        d.choices = list;
        return d;
    }
    if (list.size() != 2 || !list[0].isDouble() || !list[1].isDouble())
        fail(field, QStringLiteral("\"%1\" takes two numbers, [low, high].").arg(kind));
    d.low = list[0].toDouble();
    d.high = list[1].toDouble();
    if (!(d.low < d.high))
        fail(field, QStringLiteral("low (%1) must be below high (%2).")
                        .arg(QString::number(d.low), QString::number(d.high)));
    if (d.isLog() && d.low <= 0.0)
        fail(field, QStringLiteral("a log range must be above 0 (low is %1).")
                        .arg(QString::number(d.low)));
    if (d.isInteger() && (d.low != std::floor(d.low) || d.high != std::floor(d.high)))
        fail(field, QStringLiteral("\"%1\" takes whole numbers.").arg(kind));
    return d;
}

SweepObjective parseObjective(const QJsonValue &value)
{
    if (value.isArray())
        fail(QStringLiteral("objective"),
             QStringLiteral("several objectives (a Pareto front) are not supported yet; give "
                            "one {\"metric\": ..., \"goal\": \"max\"|\"min\"}."));
    if (value.isUndefined())
        return {};
    if (!value.isObject())
        fail(QStringLiteral("objective"),
             QStringLiteral("give {\"metric\": \"val_acc\", \"goal\": \"max\"}."));
    const QJsonObject o = value.toObject();
    SweepObjective objective;
    objective.metric = o.value(QStringLiteral("metric")).toString(objective.metric);
    if (!SweepSpec::epochMetrics().contains(objective.metric))
        fail(QStringLiteral("objective.metric"),
             QStringLiteral("no trial records \"%1\"; use one of %2.")
                 .arg(objective.metric, SweepSpec::epochMetrics().join(QStringLiteral(", "))));
    const QString goal = o.value(QStringLiteral("goal")).toString(QStringLiteral("max"));
    if (goal != QLatin1String("max") && goal != QLatin1String("min"))
        fail(QStringLiteral("objective.goal"),
             QStringLiteral("\"%1\" is neither \"max\" nor \"min\".").arg(goal));
    objective.maximize = goal == QLatin1String("max");
    return objective;
}

EarlyStopSpec parseEarlyStop(const QJsonValue &value)
{
    EarlyStopSpec e;
    if (value.isUndefined())
        return e;
    if (!value.isObject())
        fail(QStringLiteral("early_stop"),
             QStringLiteral("give {\"rule\": \"asha\"|\"median\"|\"none\", ...}."));
    const QJsonObject o = value.toObject();
    e.rule = o.value(QStringLiteral("rule")).toString(e.rule);
    if (e.rule != QLatin1String("asha") && e.rule != QLatin1String("median")
        && e.rule != QLatin1String("none"))
        fail(QStringLiteral("early_stop.rule"),
             QStringLiteral("\"%1\" is none of asha, median, none.").arg(e.rule));
    e.minEpochs = o.value(QStringLiteral("min_epochs")).toInt(e.minEpochs);
    e.reduction = o.value(QStringLiteral("reduction")).toInt(e.reduction);
    if (e.minEpochs < 1)
        fail(QStringLiteral("early_stop.min_epochs"), QStringLiteral("must be at least 1."));
    if (e.reduction < 2)
        fail(QStringLiteral("early_stop.reduction"), QStringLiteral("must be at least 2."));
    return e;
}

int positiveInt(const QJsonObject &json, const char *key, int fallback, int minimum)
{
    const QJsonValue v = json.value(QLatin1String(key));
    if (v.isUndefined())
        return fallback;
    const double d = v.toDouble(-1e300);
    if (!v.isDouble() || d != std::floor(d) || d < minimum || d > 1e6)
        fail(QLatin1String(key), QStringLiteral("must be a whole number of at least %1.")
                                     .arg(minimum));
    return int(d);
}

} // namespace

QJsonValue ParamDomain::at(double unit) const
{
    unit = std::clamp(unit, 0.0, 1.0);
    if (kind == Kind::Choice) {
        const int i = std::min(int(choices.size()) - 1, int(std::floor(unit * choices.size())));
        return choices.at(i);
    }
    // The ends exactly (a grid's first and last points are the range's own numbers).
    double v = unit <= 0.0 ? low
               : unit >= 1.0 ? high
               : isLog() ? std::exp(std::log(low) + unit * (std::log(high) - std::log(low)))
                         : low + unit * (high - low);
    v = std::clamp(v, low, high);
    if (isInteger())
        return qint64(std::llround(v));
    return v;
}

double ParamDomain::unitOf(const QJsonValue &value) const
{
    if (kind == Kind::Choice) {
        for (int i = 0; i < choices.size(); ++i)
            if (choices.at(i) == value)
                return (i + 0.5) / double(choices.size());
        return 0.0;
    }
    const double v = std::clamp(value.toDouble(), low, high);
    if (isLog())
        return (std::log(v) - std::log(low)) / (std::log(high) - std::log(low));
    return (v - low) / (high - low);
}

QJsonObject ParamDomain::toJson() const
{
    for (const KindName &k : kKinds) {
        if (k.kind == kind)
            return {{QLatin1String(k.name),
                     kind == Kind::Choice ? choices : QJsonArray{low, high}}};
    }
    return {};
}

QStringList SweepSpec::epochMetrics()
{
    return {QStringLiteral("val_acc"), QStringLiteral("val_loss"), QStringLiteral("train_acc"),
            QStringLiteral("train_loss"), QStringLiteral("test_acc")};
}

QJsonObject SweepSpec::trialSpec(const QJsonObject &params) const
{
    QJsonObject spec = train;
    QJsonObject archParams = spec.value(QStringLiteral("arch_params")).toObject();
    for (auto it = params.begin(); it != params.end(); ++it) {
        if (it.key().startsWith(kArchPrefix))
            archParams.insert(it.key().mid(kArchPrefix.size()), it.value());
        else
            spec.insert(it.key(), it.value());
    }
    if (!archParams.isEmpty())
        spec.insert(QStringLiteral("arch_params"), archParams);
    return spec;
}

qint64 SweepSpec::gridSize() const
{
    qint64 n = 1;
    for (const ParamDomain &d : space) {
        qint64 axis = gridPoints;
        if (d.kind == ParamDomain::Kind::Choice)
            axis = d.choices.size();
        else if (d.isInteger())
            axis = std::min<qint64>(gridPoints, qint64(d.high - d.low) + 1);
        n = std::min<qint64>(n * axis, qint64(1) << 40);
    }
    return n;
}

SweepSpec SweepSpec::fromJson(const QJsonObject &json)
{
    static const QSet<QString> known = {
        QStringLiteral("name"), QStringLiteral("train"), QStringLiteral("space"),
        QStringLiteral("objective"), QStringLiteral("trials"), QStringLiteral("parallel"),
        QStringLiteral("seed"), QStringLiteral("sampler"), QStringLiteral("early_stop"),
        QStringLiteral("threads"), QStringLiteral("grid_points"), QStringLiteral("compress"),
        QStringLiteral("constraints")};
    for (auto it = json.begin(); it != json.end(); ++it)
        if (!known.contains(it.key()))
            fail(it.key(), QStringLiteral("unknown field; known: %1.")
                               .arg(QStringList(known.values()).join(QStringLiteral(", "))));
    if (json.contains(QStringLiteral("compress")) || json.contains(QStringLiteral("constraints")))
        fail(json.contains(QStringLiteral("compress")) ? QStringLiteral("compress")
                                                        : QStringLiteral("constraints"),
             QStringLiteral("compression search is not supported yet; search training "
                            "settings (\"train\" and \"space\")."));

    SweepSpec s;
    s.name = json.value(QStringLiteral("name")).toString();
    if (s.name.trimmed().isEmpty())
        fail(QStringLiteral("name"), QStringLiteral("give the sweep a name."));
    const QJsonValue train = json.value(QStringLiteral("train"));
    if (!train.isObject())
        fail(QStringLiteral("train"),
             QStringLiteral("give the base training spec, e.g. {\"arch\": \"mlp\", \"epochs\": 4}."));
    s.train = train.toObject();
    try {
        TrainConfig::fromJson(s.train);
    } catch (const Error &e) {
        fail(QStringLiteral("train"), e.message());
    }

    const QJsonValue space = json.value(QStringLiteral("space"));
    if (!space.isObject() || space.toObject().isEmpty())
        fail(QStringLiteral("space"),
             QStringLiteral("give at least one parameter to search, e.g. "
                            "{\"lr\": {\"log_uniform\": [1e-4, 1e-2]}}."));
    const QJsonObject spaceObject = space.toObject();
    for (auto it = spaceObject.begin(); it != spaceObject.end(); ++it)
        s.space.push_back(parseDomain(it.key(), it.value()));

    s.objective = parseObjective(json.value(QStringLiteral("objective")));
    s.trials = positiveInt(json, "trials", s.trials, 1);
    s.parallel = positiveInt(json, "parallel", s.parallel, 1);
    s.threads = positiveInt(json, "threads", s.threads, 0);
    s.gridPoints = positiveInt(json, "grid_points", s.gridPoints, 2);
    const QJsonValue seed = json.value(QStringLiteral("seed"));
    if (!seed.isUndefined()) {
        if (!seed.isDouble() || seed.toDouble() < 0 || seed.toDouble() != std::floor(seed.toDouble()))
            fail(QStringLiteral("seed"), QStringLiteral("must be a whole number of at least 0."));
        s.seed = quint64(seed.toDouble());
    }
    s.sampler = json.value(QStringLiteral("sampler")).toString(s.sampler);
    if (s.sampler != QLatin1String("grid") && s.sampler != QLatin1String("random")
        && s.sampler != QLatin1String("model"))
        fail(QStringLiteral("sampler"),
             QStringLiteral("\"%1\" is none of grid, random, model.").arg(s.sampler));
    s.earlyStop = parseEarlyStop(json.value(QStringLiteral("early_stop")));

    // Every path must make a valid train spec at both ends of its domain: this names an
    // unknown setting, a value out of its range, or an architecture parameter the
    // architecture does not take, before any trial runs.
    const TrainConfig base = TrainConfig::fromJson(s.train);
    for (const ParamDomain &d : s.space) {
        const QString field = QStringLiteral("space.") + d.path;
        if (d.path.startsWith(kArchPrefix)) {
            const QStringList accepted = ArchitectureRegistry::instance().parametersOf(base.arch);
            if (!base.archSpec.isEmpty() || !accepted.contains(d.path.mid(kArchPrefix.size())))
                fail(field, accepted.isEmpty()
                                ? QStringLiteral("the architecture \"%1\" takes no parameters.")
                                      .arg(base.archSpec.isEmpty() ? base.arch
                                                                   : QStringLiteral("arch_spec"))
                                : QStringLiteral("the architecture \"%1\" takes %2.")
                                      .arg(base.arch, accepted.join(QStringLiteral(", "))));
        } else if (d.path == QLatin1String("arch_params") || d.path == QLatin1String("arch_spec")) {
            fail(field, QStringLiteral("search architecture parameters as \"arch.NAME\"."));
        }
        const int ends = d.kind == ParamDomain::Kind::Choice ? int(d.choices.size()) : 2;
        for (int i = 0; i < ends; ++i) {
            const double unit = d.kind == ParamDomain::Kind::Choice ? (i + 0.5) / ends : double(i);
            const QJsonObject params{{d.path, d.at(unit)}};
            try {
                const TrainConfig c = TrainConfig::fromJson(s.trialSpec(params));
                if (!c.archParams.isEmpty())
                    ArchitectureRegistry::instance().resolve(c.arch, {}, 0, c.archParams);
            } catch (const Error &e) {
                fail(field, e.message());
            }
        }
    }
    return s;
}

QJsonObject SweepSpec::toJson() const
{
    QJsonObject spaceJson;
    for (const ParamDomain &d : space)
        spaceJson.insert(d.path, d.toJson());
    return {{QStringLiteral("name"), name},
            {QStringLiteral("train"), train},
            {QStringLiteral("space"), spaceJson},
            {QStringLiteral("objective"),
             QJsonObject{{QStringLiteral("metric"), objective.metric},
                         {QStringLiteral("goal"), objective.maximize ? QStringLiteral("max")
                                                                     : QStringLiteral("min")}}},
            {QStringLiteral("trials"), trials},
            {QStringLiteral("parallel"), parallel},
            {QStringLiteral("seed"), qint64(seed)},
            {QStringLiteral("sampler"), sampler},
            {QStringLiteral("early_stop"),
             QJsonObject{{QStringLiteral("rule"), earlyStop.rule},
                         {QStringLiteral("min_epochs"), earlyStop.minEpochs},
                         {QStringLiteral("reduction"), earlyStop.reduction}}},
            {QStringLiteral("threads"), threads},
            {QStringLiteral("grid_points"), gridPoints}};
}

} // namespace ms
