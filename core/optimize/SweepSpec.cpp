#include "optimize/SweepSpec.h"

#include "common/Error.h"
#include "compress/CompressJob.h"
#include "compress/CompressionMethod.h"
#include "models/ArchitectureRegistry.h"
#include "train/TrainConfig.h"

#include <QSet>

#include <algorithm>
#include <cmath>
#include <map>

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

const QString kCompressPrefix = QStringLiteral("compress.");

SweepObjective parseOneObjective(const QString &field, const QJsonValue &value,
                                 const QStringList &metrics)
{
    if (!value.isObject())
        fail(field, QStringLiteral("give {\"metric\": \"val_acc\", \"goal\": \"max\"}."));
    const QJsonObject o = value.toObject();
    for (auto it = o.begin(); it != o.end(); ++it)
        if (it.key() != QLatin1String("metric") && it.key() != QLatin1String("goal")
            && it.key() != QLatin1String("batch"))
            fail(field + QLatin1Char('.') + it.key(),
                 QStringLiteral("unknown field; known: metric, goal, batch."));
    SweepObjective objective;
    objective.metric = o.value(QStringLiteral("metric")).toString(objective.metric);
    if (!metrics.contains(objective.metric))
        fail(field + QStringLiteral(".metric"),
             QStringLiteral("no trial records \"%1\"; use one of %2.")
                 .arg(objective.metric, metrics.join(QStringLiteral(", "))));
    const QString goal = o.value(QStringLiteral("goal")).toString(QStringLiteral("max"));
    if (goal != QLatin1String("max") && goal != QLatin1String("min"))
        fail(field + QStringLiteral(".goal"),
             QStringLiteral("\"%1\" is neither \"max\" nor \"min\".").arg(goal));
    objective.maximize = goal == QLatin1String("max");
    const QJsonValue batch = o.value(QStringLiteral("batch"));
    if (!batch.isUndefined()) {
        const double b = batch.toDouble(-1);
        if (!batch.isDouble() || b != std::floor(b) || b < 1 || b > 4096)
            fail(field + QStringLiteral(".batch"),
                 QStringLiteral("must be a whole number from 1 to 4096."));
        objective.batch = int(b);
    }
    return objective;
}

std::vector<SweepObjective> parseObjectives(const QJsonValue &value, const QStringList &metrics,
                                            const SweepObjective &fallback)
{
    if (value.isUndefined())
        return {fallback};
    if (!value.isArray())
        return {parseOneObjective(QStringLiteral("objective"), value, metrics)};
    const QJsonArray list = value.toArray();
    if (list.isEmpty())
        fail(QStringLiteral("objective"), QStringLiteral("the list is empty; give at least one "
                                                         "{\"metric\": ..., \"goal\": ...}."));
    std::vector<SweepObjective> objectives;
    for (int i = 0; i < list.size(); ++i) {
        const QString field = QStringLiteral("objective[%1]").arg(i);
        objectives.push_back(parseOneObjective(field, list.at(i), metrics));
        for (int j = 0; j < i; ++j)
            if (objectives[size_t(j)].metric == objectives.back().metric)
                fail(field + QStringLiteral(".metric"),
                     QStringLiteral("\"%1\" is already an objective.")
                         .arg(objectives.back().metric));
    }
    return objectives;
}

std::vector<SweepConstraint> parseConstraints(const QJsonValue &value, const QStringList &metrics)
{
    if (value.isUndefined())
        return {};
    if (!value.isArray())
        fail(QStringLiteral("constraints"),
             QStringLiteral("give a list, e.g. [{\"metric\": \"test_acc_drop\", "
                            "\"max\": 0.005}]."));
    std::vector<SweepConstraint> constraints;
    const QJsonArray list = value.toArray();
    for (int i = 0; i < list.size(); ++i) {
        const QString field = QStringLiteral("constraints[%1]").arg(i);
        const QJsonObject o = list.at(i).toObject();
        const bool hasMax = o.contains(QStringLiteral("max"));
        const bool hasMin = o.contains(QStringLiteral("min"));
        if (!list.at(i).isObject() || o.size() != 2 || hasMax == hasMin)
            fail(field, QStringLiteral("give {\"metric\": NAME, \"max\": NUMBER} or "
                                       "{\"metric\": NAME, \"min\": NUMBER}."));
        SweepConstraint c;
        c.metric = o.value(QStringLiteral("metric")).toString();
        if (!metrics.contains(c.metric))
            fail(field + QStringLiteral(".metric"),
                 QStringLiteral("no trial records \"%1\"; use one of %2.")
                     .arg(c.metric, metrics.join(QStringLiteral(", "))));
        const QJsonValue bound = o.value(hasMax ? QStringLiteral("max") : QStringLiteral("min"));
        if (!bound.isDouble())
            fail(field, QStringLiteral("the bound must be a number."));
        c.bound = bound.toDouble();
        c.upper = hasMax;
        constraints.push_back(c);
    }
    return constraints;
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

bool epochMetricsContain(const QString &metric)
{
    return SweepSpec::epochMetrics().contains(metric);
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

QStringList SweepSpec::trialMetrics() const
{
    QStringList metrics = isCompression()
                              ? QStringList{QStringLiteral("test_acc"),
                                            QStringLiteral("test_acc_drop"),
                                            QStringLiteral("speedup")}
                              : epochMetrics();
    metrics << QStringLiteral("latency_ms") << QStringLiteral("size_bytes")
            << QStringLiteral("parameters");
    return metrics;
}

bool SweepSpec::needsLatency() const
{
    for (const SweepObjective &o : objectives)
        if (o.metric == QLatin1String("latency_ms") || o.metric == QLatin1String("speedup"))
            return true;
    for (const SweepConstraint &c : constraints)
        if (c.metric == QLatin1String("latency_ms") || c.metric == QLatin1String("speedup"))
            return true;
    return false;
}

QString SweepSpec::compressMethod(const QJsonObject &params) const
{
    return params.value(kCompressPrefix + QStringLiteral("method"))
        .toString(compress.fixed.value(QStringLiteral("method")).toString());
}

QStringList SweepSpec::compressArguments(const QJsonObject &params) const
{
    const QString method = compressMethod(params);
    QStringList args{QStringLiteral("compress"), compress.source, QStringLiteral("--method"),
                     method, QStringLiteral("--no-register")};
    QJsonObject values = compress.fixed;
    for (auto it = params.begin(); it != params.end(); ++it)
        if (it.key().startsWith(kCompressPrefix))
            values.insert(it.key().mid(kCompressPrefix.size()), it.value());
    if (values.contains(QStringLiteral("dataset")))
        args << QStringLiteral("--dataset") << values.value(QStringLiteral("dataset")).toString();
    const auto takes = CompressionRegistry::instance().method(method)->parameters();
    for (const CompressParameter &p : takes) {
        if (!values.contains(p.name))
            continue;
        const QJsonValue v = values.value(p.name);
        args << QStringLiteral("--") + p.name
             << (v.isDouble() ? QString::number(v.toDouble(), 'g', 17) : v.toString());
    }
    return args;
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

namespace {

bool isDistribution(const QJsonValue &value)
{
    if (!value.isObject() || value.toObject().size() != 1)
        return false;
    const QString key = value.toObject().begin().key();
    for (const KindName &k : kKinds)
        if (key == QLatin1String(k.name))
            return true;
    return false;
}

// "compress": the source and the fixed entries; the searched ones join the space.
void parseCompress(const QJsonValue &value, SweepSpec &s, QJsonObject &space)
{
    if (!value.isObject())
        fail(QStringLiteral("compress"),
             QStringLiteral("give {\"source\": \"NAME:N\", \"method\": ..., ...}."));
    const QJsonObject o = value.toObject();
    s.compress.source = o.value(QStringLiteral("source")).toString().trimmed();
    if (s.compress.source.isEmpty())
        fail(QStringLiteral("compress.source"),
             QStringLiteral("name the version to compress (NAME:N or NAME@ALIAS)."));
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key() == QLatin1String("source"))
            continue;
        if (isDistribution(it.value())) {
            if (space.contains(kCompressPrefix + it.key()))
                fail(kCompressPrefix + it.key(), QStringLiteral("searched twice (in \"compress\" "
                                                                 "and in \"space\")."));
            space.insert(kCompressPrefix + it.key(), it.value());
        } else if (it.value().isString() || it.value().isDouble()) {
            s.compress.fixed.insert(it.key(), it.value());
        } else {
            fail(kCompressPrefix + it.key(),
                 QStringLiteral("give a value or a distribution such as {\"choice\": [...]}."));
        }
    }
}

// Every method a compression trial may run, each known to the studio; every parameter known to
// at least one of them and, for each that takes it, in range at both ends of its domain.
void checkCompressSpace(const SweepSpec &s)
{
    QStringList methods;
    const ParamDomain *methodDomain = nullptr;
    for (const ParamDomain &d : s.space)
        if (d.path == kCompressPrefix + QStringLiteral("method"))
            methodDomain = &d;
    if (methodDomain) {
        if (methodDomain->kind != ParamDomain::Kind::Choice)
            fail(QStringLiteral("compress.method"), QStringLiteral("search methods with "
                                                                   "{\"choice\": [...]}."));
        for (const QJsonValue &m : methodDomain->choices)
            methods << m.toString();
    } else if (s.compress.fixed.contains(QStringLiteral("method"))) {
        methods << s.compress.fixed.value(QStringLiteral("method")).toString();
    } else {
        fail(QStringLiteral("compress.method"),
             QStringLiteral("name the method, or search several with {\"choice\": [...]}."));
    }
    std::map<QString, QList<CompressParameter>> taken;
    for (const QString &m : methods) {
        try {
            taken[m] = CompressionRegistry::instance().method(m)->parameters();
        } catch (const Error &e) {
            fail(QStringLiteral("compress.method"), e.message());
        }
    }
    auto takes = [&](const QString &method, const QString &name) {
        for (const CompressParameter &p : taken[method])
            if (p.name == name)
                return true;
        return false;
    };
    // One value of a parameter checked the way `compress` checks it, for each method taking it.
    auto check = [&](const QString &field, const QString &name, const QJsonValue &v) {
        bool anyTakes = false;
        for (const QString &m : methods) {
            if (!takes(m, name))
                continue;
            anyTakes = true;
            try {
                CompressJob::checkedParams(m, taken[m], QJsonObject{{name, v}});
            } catch (const Error &e) {
                fail(field, e.message());
            }
        }
        if (!anyTakes)
            fail(field, QStringLiteral("no method searched (%1) takes --%2.")
                            .arg(methods.join(QStringLiteral(", ")), name));
    };
    for (auto it = s.compress.fixed.begin(); it != s.compress.fixed.end(); ++it)
        if (it.key() != QLatin1String("method") && it.key() != QLatin1String("dataset"))
            check(kCompressPrefix + it.key(), it.key(), it.value());
    for (const ParamDomain &d : s.space) {
        const QString field = QStringLiteral("space.") + d.path;
        if (!d.path.startsWith(kCompressPrefix))
            fail(field, QStringLiteral("a compression search searches the method's parameters, "
                                       "\"compress.NAME\"."));
        const QString name = d.path.mid(kCompressPrefix.size());
        if (name == QLatin1String("method") || name == QLatin1String("dataset"))
            continue;
        const int ends = d.kind == ParamDomain::Kind::Choice ? int(d.choices.size()) : 2;
        for (int i = 0; i < ends; ++i)
            check(field, name, d.at(d.kind == ParamDomain::Kind::Choice ? (i + 0.5) / ends
                                                                        : double(i)));
    }
}

// Every training path must make a valid train spec at both ends of its domain: this names an
// unknown setting, a value out of its range, or an architecture parameter the architecture
// does not take, before any trial runs.
void checkTrainSpace(const SweepSpec &s)
{
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
        } else if (d.path.startsWith(kCompressPrefix)) {
            fail(field, QStringLiteral("compression parameters are searched in a compression "
                                       "search (\"compress\": {\"source\": ...})."));
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
}

// The sampler and early stopping against the objectives: dlib's search models one value, and
// a rule that stops trials after an epoch needs an objective every epoch reports.
void checkSearchFits(const SweepSpec &s)
{
    // Without a "sampler" field several objectives take "random" (fromJson).
    if (s.hasSeveralObjectives() && s.sampler == QLatin1String("model"))
        fail(QStringLiteral("sampler"),
             QStringLiteral("\"model\" (dlib's search) optimises one value; with several "
                            "objectives use \"random\" or \"grid\": the Pareto front is kept "
                            "from every trial."));
    if (s.earlyStop.rule == QLatin1String("none"))
        return;
    if (s.isCompression())
        fail(QStringLiteral("early_stop"),
             QStringLiteral("a compression trial has no per-epoch objective to stop on; use "
                            "{\"rule\": \"none\"}."));
    if (!epochMetricsContain(s.objective.metric))
        fail(QStringLiteral("early_stop"),
             QStringLiteral("\"%1\" is measured once a trial ends, so no trial can be stopped "
                            "on it; make an epoch metric (%2) the first objective, or use "
                            "{\"rule\": \"none\"}.")
                 .arg(s.objective.metric, SweepSpec::epochMetrics().join(QStringLiteral(", "))));
}

} // namespace

SweepSpec SweepSpec::fromJson(const QJsonObject &json)
{
    static const QSet<QString> known = {
        QStringLiteral("name"), QStringLiteral("train"), QStringLiteral("space"),
        QStringLiteral("objective"), QStringLiteral("trials"), QStringLiteral("parallel"),
        QStringLiteral("seed"), QStringLiteral("sampler"), QStringLiteral("early_stop"),
        QStringLiteral("threads"), QStringLiteral("grid_points"), QStringLiteral("compress"),
        QStringLiteral("constraints"), QStringLiteral("startup_trials"),
        QStringLiteral("reuse_processes")};
    for (auto it = json.begin(); it != json.end(); ++it)
        if (!known.contains(it.key()))
            fail(it.key(), QStringLiteral("unknown field; known: %1.")
                               .arg(QStringList(known.values()).join(QStringLiteral(", "))));

    SweepSpec s;
    s.name = json.value(QStringLiteral("name")).toString();
    if (s.name.trimmed().isEmpty())
        fail(QStringLiteral("name"), QStringLiteral("give the sweep a name."));
    const QJsonValue space = json.value(QStringLiteral("space"));
    if (!space.isUndefined() && !space.isObject())
        fail(QStringLiteral("space"), QStringLiteral("give an object of parameters, e.g. "
                                                     "{\"lr\": {\"log_uniform\": [1e-4, 1e-2]}}."));
    QJsonObject spaceObject = space.toObject();
    const QJsonValue train = json.value(QStringLiteral("train"));
    if (json.contains(QStringLiteral("compress"))) {
        if (!train.isUndefined())
            fail(QStringLiteral("train"), QStringLiteral("a sweep trains or compresses: give "
                                                         "\"train\" or \"compress\", not both."));
        parseCompress(json.value(QStringLiteral("compress")), s, spaceObject);
    } else {
        if (!train.isObject())
            fail(QStringLiteral("train"),
                 QStringLiteral("give the base training spec, e.g. {\"arch\": \"mlp\", "
                                "\"epochs\": 4}, or a compression search's \"compress\"."));
        s.train = train.toObject();
        try {
            TrainConfig::fromJson(s.train);
        } catch (const Error &e) {
            fail(QStringLiteral("train"), e.message());
        }
    }
    if (spaceObject.isEmpty())
        fail(QStringLiteral("space"),
             QStringLiteral("give at least one parameter to search, e.g. "
                            "{\"lr\": {\"log_uniform\": [1e-4, 1e-2]}}."));
    for (auto it = spaceObject.begin(); it != spaceObject.end(); ++it)
        s.space.push_back(parseDomain(it.key(), it.value()));

    const SweepObjective fallback =
        s.isCompression() ? SweepObjective{QStringLiteral("test_acc"), true, 1} : SweepObjective{};
    s.objectives = parseObjectives(json.value(QStringLiteral("objective")), s.trialMetrics(),
                                   fallback);
    s.objective = s.objectives.front();
    s.constraints = parseConstraints(json.value(QStringLiteral("constraints")), s.trialMetrics());
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
    s.sampler = json.value(QStringLiteral("sampler"))
                    .toString(s.hasSeveralObjectives() ? QStringLiteral("random") : s.sampler);
    if (s.sampler != QLatin1String("grid") && s.sampler != QLatin1String("random")
        && s.sampler != QLatin1String("model"))
        fail(QStringLiteral("sampler"),
             QStringLiteral("\"%1\" is none of grid, random, model.").arg(s.sampler));
    s.startupTrials = positiveInt(json, "startup_trials", s.startupTrials, 0);
    if (s.startupTrials > 0 && s.sampler != QLatin1String("model"))
        fail(QStringLiteral("startup_trials"),
             QStringLiteral("only the \"model\" sampler has start-up trials (the %1 sampler "
                            "draws every trial the same way); remove the field or use "
                            "\"sampler\": \"model\".").arg(s.sampler));
    const QJsonValue reuse = json.value(QStringLiteral("reuse_processes"));
    if (!reuse.isUndefined() && !reuse.isBool())
        fail(QStringLiteral("reuse_processes"), QStringLiteral("must be true or false."));
    s.reuseProcesses = reuse.toBool(s.reuseProcesses);
    s.earlyStop = parseEarlyStop(json.value(QStringLiteral("early_stop")));
    checkSearchFits(s);
    if (s.isCompression())
        checkCompressSpace(s);
    else
        checkTrainSpace(s);
    return s;
}

QJsonObject SweepObjective::toJson() const
{
    QJsonObject o{{QStringLiteral("metric"), metric},
                  {QStringLiteral("goal"),
                   maximize ? QStringLiteral("max") : QStringLiteral("min")}};
    if (batch != 1)
        o.insert(QStringLiteral("batch"), batch);
    return o;
}

QJsonObject SweepConstraint::toJson() const
{
    return {{QStringLiteral("metric"), metric},
            {upper ? QStringLiteral("max") : QStringLiteral("min"), bound}};
}

QJsonObject SweepSpec::toJson() const
{
    QJsonObject spaceJson;
    for (const ParamDomain &d : space)
        spaceJson.insert(d.path, d.toJson());
    QJsonArray objectiveList;
    for (const SweepObjective &o : objectives)
        objectiveList.append(o.toJson());
    QJsonObject json{{QStringLiteral("name"), name},
                     {QStringLiteral("space"), spaceJson},
                     {QStringLiteral("objective"), objectives.size() == 1
                                                       ? QJsonValue(objectives.front().toJson())
                                                       : QJsonValue(objectiveList)},
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
    if (startupTrials > 0)
        json.insert(QStringLiteral("startup_trials"), startupTrials);
    if (!reuseProcesses)
        json.insert(QStringLiteral("reuse_processes"), false);
    if (isCompression()) {
        QJsonObject block = compress.fixed;
        block.insert(QStringLiteral("source"), compress.source);
        json.insert(QStringLiteral("compress"), block);
    } else {
        json.insert(QStringLiteral("train"), train);
    }
    if (!constraints.empty()) {
        QJsonArray list;
        for (const SweepConstraint &c : constraints)
            list.append(c.toJson());
        json.insert(QStringLiteral("constraints"), list);
    }
    return json;
}

} // namespace ms
