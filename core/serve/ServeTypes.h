#pragma once

#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms {

// How the embedded server listens, batches and defends itself. Every limit has a default a
// user can keep (docs/security.md explains each) and a CLI flag where one would want to change
// it; tests shrink the timeouts and caps to make a limit trigger in milliseconds.
struct ServeOptions
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 8765;
    bool allowNonLoopback = false;   // binding anything but loopback needs this, and warns
    int maxBatchSize = 32;
    // How long the first request of a batch may wait for company. Short: under load the queue
    // refills while a batch runs, and a long wait only idles the worker (32 clients: 7,075
    // req/s at 0 us, 6,337 at 500, 3,121 at 2,000; bench/README.md).
    int maxQueueDelay_us = 500;
    int threadsPerModel = 1;         // intra-op threads of each model's worker
    QString token;                   // bearer token; empty = no authentication

    // --- limits against hostile or broken clients ---
    qint64 maxBodyBytes = 16 * 1024 * 1024;   // per request, refused by Content-Length: 413
    qint64 maxHeaderBytes = 64 * 1024;        // request line and headers together: 431
    int maxHeaderCount = 100;                 // header fields per request: 431
    // Open connections. At the cap the longest-idle keep-alive connection is closed to make
    // room, else the newcomer gets 503. Lowered to fit the process's descriptor limit.
    int maxConnections = 512;
    int idleTimeout_ms = 30000;      // a kept-alive connection with nothing in progress closes
    int headerTimeout_ms = 10000;    // first byte of a request to the end of its headers: 408
    int bodyTimeout_ms = 60000;      // end of the headers to the end of the body: 408
    // Reply bytes a client has not read yet, per connection: past it the server stops reading
    // that connection's requests until the client catches up.
    qint64 maxUnsentReplyBytes = 8 * 1024 * 1024;
    int maxPipelinedRequests = 32;   // requests read ahead of their replies, per connection
    // Request bodies being received, over all connections: a request that would go past it
    // gets 503 before its body is read.
    qint64 maxBufferedBodyBytes = 256 * 1024 * 1024;
    int maxQueuedSamples = 1024;     // waiting per model: past it 503 with Retry-After
    int requestTimeout_ms = 30000;   // arrival to reply of an inference request: 504; 0 = none
                                     // (not generations: max_tokens bounds those)
    // Language models (/v1/completions): the largest max_tokens a request may ask for (and a
    // chat answer's default), and the generations in progress per model (past it: 503).
    int maxTokensCap = 1024;
    int maxStreamsPerModel = 64;
    // Concurrent generations share decode steps (continuous batching); false interleaves them
    // one row at a time (for comparison: bench/openai_bench.py).
    bool batchGenerations = true;
};

// One model version being served, for listings, /v2/models/{name} and the window.
struct ServedModel
{
    QString name;                    // the registry model name it is served under
    QString versionRef;              // "cnn:3"
    int version = 0;
    bool isDefault = false;          // the version the bare name answers with
    // Per sample (no batch dimension); -1 for a dynamic dimension (a token input's sequence).
    std::vector<qint64> inputShape;
    // The input's dtype from the version's signature: "float32", or "int64"/"int32" for token
    // ids (v2 requests then send INT64/INT32 data).
    QString inputDtype = QStringLiteral("float32");
    std::vector<qint64> exampleShape;   // per sample, concrete: what examples and warm-up send
    qint64 vocabSize = 0;            // token ids the embedding holds, 0 when unknown
    int numOutputs = 0;              // classes
    QStringList classNames;
    QDateTime loaded;
    QString task;                    // "lm" for a language model (the /v1 routes), else empty
    int contextTokens = 0;           // a language model's block_size
    // The kind of tokenizer the version carries ("byte", "spm-bpe"; a gpt, a text classifier
    // trained by the studio): it then reads v2 BYTES text too. Empty when it carries none.
    QString tokenizer;
};

// One finished request, for the request log, live plots and --log.
struct RequestRecord
{
    QDateTime time;       // UTC
    QString method;
    QString path;         // as sent on the wire: still percent-encoded
    QString model;        // empty when not a model route
    int status = 0;
    double latency_us = 0.0;
    double queue_us = 0.0;   // time waiting for its batch (0 outside inference)
    int batchSize = 0;       // size of the batch it ran in (0 outside inference)
};

} // namespace ms

Q_DECLARE_METATYPE(ms::RequestRecord)
Q_DECLARE_METATYPE(ms::ServedModel)
