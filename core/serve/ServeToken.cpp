#include "ServeToken.h"

#include "common/Error.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>

namespace ms::serve {

QString tokenProblem(const QString &token, const QString &source)
{
    if (token.isEmpty()) {
        return QStringLiteral("%1 is empty: that would serve without authentication. Give a "
                              "token, or leave the token out to serve without one.")
            .arg(source);
    }
    if (token.size() > kMaxTokenLength)
        return QStringLiteral("%1 is over %2 characters.").arg(source).arg(kMaxTokenLength);
    for (const QChar c : token) {
        // Visible ASCII only: what an Authorization header can carry unchanged.
        if (c.unicode() <= 0x20 || c.unicode() >= 0x7f) {
            return QStringLiteral("%1 holds a space, a control or a non-ASCII character; use "
                                  "letters, digits and punctuation (the window's Generate "
                                  "button makes one).")
                .arg(source);
        }
    }
    return {};
}

QString readTokenFile(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        throw Error(QStringLiteral("the token file \"%1\" does not exist.").arg(path));
    if (QFileInfo(path).size() > kMaxTokenLength + 64)
        throw Error(QStringLiteral("the token file \"%1\" is too large for a token (over %2 "
                                   "bytes).")
                        .arg(path, QString::number(kMaxTokenLength)));
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("cannot read the token file \"%1\": %2")
                        .arg(path, file.errorString()));
    const QString token = QString::fromUtf8(file.readAll()).trimmed();
    const QString problem = tokenProblem(token, QStringLiteral("the token in \"%1\"").arg(path));
    if (!problem.isEmpty())
        throw Error(problem);
    return token;
}

bool bearerMatches(const QByteArray &authorization, const QString &token)
{
    const QByteArray header = authorization.trimmed();
    const qsizetype space = header.indexOf(' ');
    const QByteArray scheme = space < 0 ? header : header.left(space);
    const QByteArray given = space < 0 ? QByteArray() : header.mid(space + 1).trimmed();
    // Digests of equal length, compared with no early exit: the time does not depend on
    // where the first difference is, nor on the token's length.
    const QByteArray a = QCryptographicHash::hash(given, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256);
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    const bool schemeOk = scheme.compare("bearer", Qt::CaseInsensitive) == 0;
    return schemeOk && difference == 0 && !token.isEmpty();
}

} // namespace ms::serve
