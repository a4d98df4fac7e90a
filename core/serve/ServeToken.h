#pragma once

#include <QByteArray>
#include <QString>

namespace ms::serve {

// The server's bearer token: where it comes from and how a request's is checked. The CLI and
// the window take it the same three ways: --token (visible to other users in the process
// list), --token-file FILE and the MODELSTUDIO_TOKEN environment variable.

constexpr int kMaxTokenLength = 4096;
inline constexpr char kTokenVariable[] = "MODELSTUDIO_TOKEN";

// What is wrong with a token (empty, too long, a character a header cannot carry), or an
// empty string when it is usable. `source` names where it came from, for the message.
QString tokenProblem(const QString &token, const QString &source);
// The token in a file: its content with surrounding whitespace (a trailing newline) removed.
// Throws ms::Error saying what is wrong (missing, unreadable, too large, empty, bad token).
QString readTokenFile(const QString &path);
// True when `authorization` is "Bearer <token>" for this token. The scheme is matched without
// regard to case (RFC 7235) and the tokens are compared in constant time: the comparison
// takes as long whatever the client sent, so timing tells it nothing about the token.
bool bearerMatches(const QByteArray &authorization, const QString &token);

} // namespace ms::serve
