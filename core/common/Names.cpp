#include "common/Names.h"

#include "common/Error.h"
#include "common/Printable.h"

#include <QDir>
#include <QFileInfo>

namespace ms {

namespace {

bool isNameCharacter(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9')
           || u == u'-' || u == u'_' || u == u'.';
}

// A name starting with '.' is hidden and may be "..", one starting with '-' reads as an option
// on a command line.
bool isNameStart(QChar c)
{
    return isNameCharacter(c) && c != QLatin1Char('.') && c != QLatin1Char('-');
}

// A name shown in a message: quoted, control characters escaped, and cut if very long (the
// message must stay one readable line).
QString shown(const QString &name)
{
    constexpr int kShownLength = 60;
    const QString cut = name.size() > kShownLength ? name.left(kShownLength) + QStringLiteral("…")
                                                   : name;
    return QLatin1Char('"') + printable(cut) + QLatin1Char('"');
}

// `name` as one shell word for the rename hint: in single quotes, or in bash's $'...' when it
// holds control characters, written as the escapes $'...' reads.
QString shellWord(const QString &name)
{
    if (!hasControlCharacters(name))
        return QLatin1Char('\'') + QString(name).replace(QLatin1String("'"), QLatin1String("'\\''"))
               + QLatin1Char('\'');
    QString word = QStringLiteral("$'");
    for (const QChar c : name) {
        if (c == QLatin1Char('\\') || c == QLatin1Char('\''))
            word += QLatin1Char('\\') + QString(c);
        else if (hasControlCharacters(QString(c)))
            word += c.unicode() < 0x100 ? printable(QString(c))
                                        : QStringLiteral("\\u%1").arg(uint(c.unicode()), 4, 16,
                                                                      QLatin1Char('0'));
        else
            word += c;
    }
    return word + QLatin1Char('\'');
}

} // namespace

QString modelNameRule()
{
    return QStringLiteral("a model name is 1 to %1 ASCII letters, digits, '-', '_' or '.', "
                          "starting with a letter, a digit or '_' (it becomes a file name in "
                          "exports and part of references like NAME:3 and NAME@production)")
        .arg(kMaxModelNameLength);
}

QString modelNameProblem(const QString &name)
{
    if (name.isEmpty())
        return QStringLiteral("it is empty");
    if (name.size() > kMaxModelNameLength)
        return QStringLiteral("it is %1 characters long").arg(name.size());
    if (!isNameStart(name.front()))
        return name.front() == QLatin1Char('.') || name.front() == QLatin1Char('-')
                   ? QStringLiteral("it starts with '%1'").arg(name.front())
                   : QStringLiteral("it starts with %1").arg(shown(QString(name.front())));
    for (const QChar c : name) {
        if (!isNameCharacter(c)) {
            if (c == QLatin1Char(':') || c == QLatin1Char('@'))
                return QStringLiteral("it holds '%1', which separates a version or an alias "
                                      "from the name").arg(c);
            if (c == QLatin1Char('/') || c == QLatin1Char('\\'))
                return QStringLiteral("it holds '%1', a path separator").arg(c);
            if (c == QLatin1Char(' '))
                return QStringLiteral("it holds a space");
            return QStringLiteral("it holds %1").arg(shown(QString(c)));
        }
    }
    return QString();
}

bool isValidModelName(const QString &name)
{
    return modelNameProblem(name).isEmpty();
}

void checkModelName(const QString &name)
{
    if (name.isEmpty())
        throw Error(QStringLiteral("The model needs a name: %1.").arg(modelNameRule()));
    const QString problem = modelNameProblem(name);
    if (!problem.isEmpty())
        throw Error(QStringLiteral("%1 cannot be a model name (%2): %3.")
                        .arg(shown(name), problem, modelNameRule()));
}

void checkStoredModelName(const QString &name)
{
    const QString problem = modelNameProblem(name);
    if (!problem.isEmpty())
        throw Error(QStringLiteral("the model %1 has a name the studio no longer accepts (%2): "
                                   "rename it first, e.g. modelstudio-cli rename %3 %4 (or "
                                   "Rename model… in the Versions panel); %5.")
                        .arg(shown(name), problem, shellWord(name), modelNameFrom(name),
                             modelNameRule()));
}

QString modelNameFrom(const QString &text, const QString &fallback)
{
    if (isValidModelName(text.trimmed()))
        return text.trimmed();
    QString name;
    name.reserve(text.size());
    for (const QChar c : text.trimmed()) {
        if (isNameCharacter(c))
            name += c;
        else if (!name.endsWith(QLatin1Char('-')))
            name += QLatin1Char('-');   // a run of refused characters becomes one '-'
    }
    while (!name.isEmpty() && !isNameStart(name.front()))
        name.remove(0, 1);
    name.truncate(kMaxModelNameLength);
    while (name.endsWith(QLatin1Char('-')))
        name.chop(1);
    return name.isEmpty() ? fallback : name;
}

QString pathInside(const QString &dir, const QString &fileName)
{
    const QString base = QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
    if (fileName.isEmpty() || fileName == QLatin1String(".") || fileName == QLatin1String("..")
        || fileName.contains(QLatin1Char('/')) || fileName.contains(QLatin1Char('\\'))
        || fileName.contains(QChar(0)))
        throw Error(QStringLiteral("%1 cannot be a file name in %2: it would leave that folder; "
                                   "nothing was written.")
                        .arg(shown(fileName), QDir::toNativeSeparators(base)));
    const QString path = QDir::cleanPath(base + QLatin1Char('/') + fileName);
    // Belt and braces: whatever the checks above missed, the result must be a direct child.
    if (QFileInfo(path).absolutePath() != base)
        throw Error(QStringLiteral("%1 cannot be a file name in %2: it would leave that folder; "
                                   "nothing was written.")
                        .arg(shown(fileName), QDir::toNativeSeparators(base)));
    return path;
}

} // namespace ms
