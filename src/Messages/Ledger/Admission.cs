using System.Collections.Immutable;
using Orchestrator.Messages.Chat;

namespace Orchestrator.Messages.Ledger;

/// <summary>
/// Admits a request on a key: within its limits, and with its upper-bound cost (<see cref="CostUsd"/>, for
/// <see cref="Tokens"/> prompt + output tokens at most) reserved from the balance. Replies <see cref="Admitted"/>
/// or <see cref="NotAdmitted"/>. The reservation lasts until <see cref="Settle"/> for the same request.
/// </summary>
public sealed record Reserve(string KeyId, string RequestId, string Model, long Tokens, decimal CostUsd) : IKeyMessage
{
    /// <summary>
    /// Not null: no model of that id is configured, and these are the configured ids nearest to it. The key refuses it
    /// as it refuses a model outside its allow-list, in the same words, suggesting only models it may use: to a key
    /// with an allow-list, a model outside it and a model nobody configured look the same.
    /// </summary>
    public ImmutableArray<string>? UnknownModel { get; init; }
}

public sealed record Admitted(string RequestId)
{
    /// <summary>
    /// The key's rate limits after this request took its share (OpenAI's <c>x-ratelimit-*</c> headers, as on every
    /// OpenAI response), for the answer's headers; empty for a key without rpm or tpm.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}

/// <summary>Refused: 401 (revoked, expired), 404 (a model outside the allow-list), 429 (a limit, with headers), 402 (balance).</summary>
public sealed record NotAdmitted(string RequestId, ApiError Error);

/// <summary>
/// Ends a request's reservation with what it really cost (<see cref="Record"/>: zero tokens and cost when it
/// produced nothing). Idempotent: a request settles once, a repeat is ignored.
/// </summary>
public sealed record Settle(string KeyId, UsageRecord Record) : IKeyMessage;
