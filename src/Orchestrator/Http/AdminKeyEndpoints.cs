using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Orchestrator.Actors.Ledger;
using Orchestrator.Actors.Settings;
using Orchestrator.Messages.Chat;
using Orchestrator.Messages.Ledger;

namespace Orchestrator.Http;

/// <summary>
/// The ledger's admin API, under <c>/admin</c> (behind <see cref="AdminKeyFilter"/>): keys (create, list, read, change,
/// credit, revoke). A key's secret appears once, in the answer that made it; every other answer shows its id.
/// </summary>
public static class AdminKeyEndpoints
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static RouteGroupBuilder MapAdminKeyEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/keys", CreateAsync);
        admin.MapGet("/keys", ListAsync);
        admin.MapGet("/keys/{id}", GetAsync);
        admin.MapMethods("/keys/{id}", ["PATCH"], ChangeAsync);
        admin.MapPost("/keys/{id}/credit", CreditAsync);
        admin.MapDelete("/keys/{id}", RevokeAsync);
        return admin;
    }

    private static async Task CreateAsync(HttpContext http, IRequiredActor<LedgerActor> ledger, OrchestratorSettings settings)
    {
        if (await AdminJson.ReadObjectAsync(http) is not { } body) return;
        var error = First(
            AdminJson.OnlyKnown(body, "name", "credit_usd", "models", "rpm", "tpm", "max_concurrent", "expires_at"),
            AdminJson.RequiredString(body, "name", out var name),
            AdminJson.Money(body, "credit_usd", allowNegative: false, out var credit),
            Models(body, settings, out var models),
            Limit(body, "rpm", out var rpm), Limit(body, "tpm", out var tpm), Limit(body, "max_concurrent", out var maxConcurrent),
            AdminJson.Time(body, "expires_at", out var expiresAt));
        if (error is not null)
        {
            await OpenAiErrors.WriteAsync(http.Response, error);
            return;
        }
        var key = LedgerKeys.Create();
        var reply = await ledger.ActorRef.Ask<object>(new CreateKey(key.KeyId, name!, key.SecretHash, credit ?? 0m, models.Value,
            new KeyLimits(rpm.Value, tpm.Value, maxConcurrent.Value), expiresAt.Value), AskTimeout, http.RequestAborted);
        if (reply is not KeyView view)
        {
            await WriteReplyAsync(http, reply);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status201Created;
        await AdminJson.WriteAsync(http, json =>
        {
            json.WriteStartObject();
            json.WriteString("key", key.Secret);   // the one time it is shown
            WriteFields(json, view);
            json.WriteEndObject();
        });
    }

    private static async Task ListAsync(HttpContext http, IRequiredActor<LedgerActor> ledger)
    {
        var list = await ledger.ActorRef.Ask<KeyList>(ListKeys.Instance, AskTimeout, http.RequestAborted);
        var replies = await Task.WhenAll(list.KeyIds.Select(id => ledger.ActorRef.Ask<object>(new GetKey(id), AskTimeout, http.RequestAborted)));
        await AdminJson.WriteAsync(http, json =>
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            foreach (var view in replies.OfType<KeyView>()) Write(json, view);
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static async Task GetAsync(string id, HttpContext http, IRequiredActor<LedgerActor> ledger) =>
        await WriteReplyAsync(http, await ledger.ActorRef.Ask<object>(new GetKey(id), AskTimeout, http.RequestAborted));

    private static async Task ChangeAsync(string id, HttpContext http, IRequiredActor<LedgerActor> ledger, OrchestratorSettings settings)
    {
        if (await AdminJson.ReadObjectAsync(http) is not { } body) return;
        var error = First(
            AdminJson.OnlyKnown(body, "name", "models", "rpm", "tpm", "max_concurrent", "expires_at"),
            OptionalName(body, out var name),
            Models(body, settings, out var models),
            Limit(body, "rpm", out var rpm), Limit(body, "tpm", out var tpm), Limit(body, "max_concurrent", out var maxConcurrent),
            AdminJson.Time(body, "expires_at", out var expiresAt));
        if (error is not null)
        {
            await OpenAiErrors.WriteAsync(http.Response, error);
            return;
        }
        var reply = await ledger.ActorRef.Ask<object>(new ChangeKey(id, name, models, rpm, tpm, maxConcurrent, expiresAt), AskTimeout, http.RequestAborted);
        await WriteReplyAsync(http, reply);
    }

    private static async Task CreditAsync(string id, HttpContext http, IRequiredActor<LedgerActor> ledger)
    {
        if (await AdminJson.ReadObjectAsync(http) is not { } body) return;
        var error = First(
            AdminJson.OnlyKnown(body, "amount_usd", "note"),
            AdminJson.Money(body, "amount_usd", allowNegative: true, out var amount),
            AdminJson.OptionalString(body, "note", 1000, out var note));
        if (error is null && amount is null) error = ApiError.InvalidRequest("'amount_usd' is required: the USD to add (negative to take away).", "amount_usd");
        if (error is not null)
        {
            await OpenAiErrors.WriteAsync(http.Response, error);
            return;
        }
        var reply = await ledger.ActorRef.Ask<object>(new AddCredit(id, amount!.Value, note), AskTimeout, http.RequestAborted);
        await WriteReplyAsync(http, reply);
    }

    private static async Task RevokeAsync(string id, HttpContext http, IRequiredActor<LedgerActor> ledger, ClientKeys keys)
    {
        var reply = await ledger.ActorRef.Ask<object>(new RevokeKey(id), AskTimeout, http.RequestAborted);
        keys.Forget(id);
        await WriteReplyAsync(http, reply);
    }

    // ---- replies -----------------------------------------------------------------------------------------------

    private static Task WriteReplyAsync(HttpContext http, object reply) => reply switch
    {
        KeyView view => AdminJson.WriteAsync(http, json => Write(json, view)),
        KeyNotFound notFound => OpenAiErrors.WriteAsync(http.Response, new ApiError(404, $"No key with id '{ApiError.Quote(notFound.KeyId)}'.", "invalid_request_error", "id", "key_not_found")),
        KeyRefused refused => OpenAiErrors.WriteAsync(http.Response, new ApiError(409, $"The key was not changed: {refused.Reason}.", "invalid_request_error", null, "conflict")),
        _ => OpenAiErrors.WriteAsync(http.Response, ApiError.Internal("The ledger gave an unexpected answer.")),
    };

    /// <summary>A key as the admin API shows it (GET /admin/keys/{id}); never its secret or hash.</summary>
    public static void Write(Utf8JsonWriter json, KeyView view)
    {
        json.WriteStartObject();
        WriteFields(json, view);
        json.WriteEndObject();
    }

    private static void WriteFields(Utf8JsonWriter json, KeyView view)
    {
        json.WriteString("id", view.KeyId);
        json.WriteString("object", "key");
        json.WriteString("name", view.Name);
        json.WriteNumber("balance_usd", AdminJson.Plain(view.BalanceUsd));
        json.WriteNumber("spent_usd", AdminJson.Plain(view.SpentUsd));
        json.WriteNumber("reserved_usd", AdminJson.Plain(view.ReservedUsd));
        json.WriteNumber("credited_usd", AdminJson.Plain(view.CreditedUsd));
        json.WriteNumber("requests", view.Requests);
        if (view.Models is { } models)
        {
            json.WriteStartArray("models");
            foreach (var model in models) json.WriteStringValue(model);
            json.WriteEndArray();
        }
        else json.WriteNull("models");
        WriteLimit(json, "rpm", view.Limits.Rpm);
        WriteLimit(json, "tpm", view.Limits.Tpm);
        WriteLimit(json, "max_concurrent", view.Limits.MaxConcurrent);
        if (view.ExpiresAt is { } expires) json.WriteString("expires_at", AdminJson.Format(expires));
        else json.WriteNull("expires_at");
        json.WriteBoolean("revoked", view.Revoked);
        json.WriteString("created_at", AdminJson.Format(view.CreatedAt));
    }

    private static void WriteLimit(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v) json.WriteNumber(name, v);
        else json.WriteNull(name);
    }

    /// <summary>The first field's error (every field is read, so each out value is set).</summary>
    internal static ApiError? First(params ApiError?[] errors) => errors.FirstOrDefault(e => e is not null);

    // ---- fields ------------------------------------------------------------------------------------------------

    /// <summary>An allow-list names configured models only: a typo would lock the key out of the model it meant.</summary>
    private static ApiError? Models(JsonElement body, OrchestratorSettings settings, out Change<ImmutableArray<string>?> models)
    {
        models = Change<ImmutableArray<string>?>.Keep;
        if (!body.TryGetProperty("models", out var value)) return null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            models = Change<ImmutableArray<string>?>.To(null);
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array) return ApiError.InvalidRequest("'models' must be an array of model ids, or null for every model.", "models");
        var ids = ImmutableArray.CreateBuilder<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) return ApiError.InvalidRequest("'models' must be an array of model ids.", "models");
            var id = item.GetString()!;
            if (!settings.Resolver.TryResolve(id, out _))
                return ApiError.InvalidRequest($"'models' names '{ApiError.Quote(id)}', which is not a configured model.", "models");
            ids.Add(id);
        }
        models = Change<ImmutableArray<string>?>.To(ids.ToImmutable());
        return null;
    }

    private static ApiError? Limit(JsonElement body, string name, out Change<int?> limit)
    {
        limit = Change<int?>.Keep;
        if (!body.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            limit = Change<int?>.To(null);
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < 1)
            return ApiError.InvalidRequest($"'{name}' must be a whole number of at least 1, or null for no limit.", name);
        limit = Change<int?>.To(number);
        return null;
    }

    private static ApiError? OptionalName(JsonElement body, out Change<string> name)
    {
        name = Change<string>.Keep;
        if (!body.TryGetProperty("name", out _)) return null;
        var error = AdminJson.RequiredString(body, "name", out var value);
        if (error is null) name = Change<string>.To(value!);
        return error;
    }
}
