using System.Text.Json;
using Orchestrator.Actors.Dialects;

namespace Orchestrator.Tests.Dialects;

/// <summary>
/// The input estimate reads string lengths from the raw JSON without unescaping it: every length must be what the
/// unescaped string's <see cref="string.Length"/> is, whatever the escapes and however the text is encoded.
/// </summary>
public sealed class TokenEstimateTests
{
    public static TheoryData<string> Bodies => new()
    {
        """{"messages":[{"role":"user","content":"plain ascii words"}]}""",
        """{"messages":[{"role":"user","content":"line\nnext \"quoted\" back\\slash \/ tab\t \b\f\r end\\"}]}""",
        """{"messages":[{"role":"user","content":"caf\u00e9 \u4f60\u597d \ud83d\ude00 \u0000"}]}""",
        """{"messages":[{"role":"user","content":"café 你好 😀 raw UTF-8"}]}""",
        """{"messages":[{"role":"system","content":""},{"role":"user","content":[{"type":"text","text":"part \u00e9\n"},{"type":"image_url","image_url":{"url":"data:x"}}]}]}""",
        """{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"get\u005fweather","parameters":{"type":"object","properties":{"ci\u0074y":{"type":"string"},"n":{"type":"number","maximum":10}}}}}]}""",
        """{"messages":[{"role":"user","content":"\\\\\\\"\\u00e9"}]}""",
        """{"model":"m"}""",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Characters_AnyEscapesOrEncoding_WhatTheUnescapedStringsHold(string body)
    {
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(Characters(root), TokenEstimate.Characters(root));
        Assert.Equal(Expected(root), TokenEstimate.Input(root));
    }

    [Fact]
    public void Input_LongPromptWithEscapes_SameAsTheUnescapedStrings()
    {
        var text = string.Concat(Enumerable.Repeat("The quick brown fox \"jumps\"\nover the lazy dog, é 你 😀.\t", 2000));
        var body = JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = text } } });
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Contains("\\u", body);   // the serializer escaped the non-ASCII text
        Assert.Equal(Characters(root), TokenEstimate.Characters(root));
        Assert.Equal(Expected(root), TokenEstimate.Input(root));
    }

    [Fact]
    public void InputEstimate_AskedTwice_WorksItOutOnceTheSame()
    {
        var root = JsonDocument.Parse("""{"messages":[{"role":"user","content":"how far is the moon"}]}""").RootElement;
        var estimate = new InputEstimate(root);
        Assert.Equal(TokenEstimate.Input(root), estimate.Tokens);
        Assert.Equal(estimate.Tokens, estimate.Tokens);
    }

    // The rule the estimate states, over unescaped strings: characters / 4 + 3 per message.
    private static int Expected(JsonElement body)
    {
        long characters = 0;
        var messages = 0;
        if (body.TryGetProperty("messages", out var list))
        {
            foreach (var message in list.EnumerateArray())
            {
                messages++;
                characters += Characters(message);
            }
        }
        if (body.TryGetProperty("tools", out var tools)) characters += Characters(tools);
        return (int)Math.Max(1, characters / 4 + 3L * messages);
    }

    private static long Characters(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!.Length,
        JsonValueKind.Array => element.EnumerateArray().Sum(Characters),
        JsonValueKind.Object => element.EnumerateObject().Sum(p => p.Name.Length + Characters(p.Value)),
        JsonValueKind.Number => 2,
        _ => 0,
    };
}
