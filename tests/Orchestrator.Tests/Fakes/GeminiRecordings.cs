namespace Orchestrator.Tests.Fakes;

/// <summary>
/// Gemini <c>streamGenerateContent?alt=sse</c> responses as the API writes them (JSON with a space after each colon,
/// proto3 JSON leaving out a zero <c>index</c>, <c>\r\n\r\n</c> between events, no <c>[DONE]</c>), and the whole
/// <c>generateContent</c> forms: the bytes <see cref="FakeGemini"/> sends and the decoder tests read.
/// </summary>
public static class GeminiRecordings
{
    public const string Model = "gemini-2.5-flash";
    public const string TextId = "Wm8oaLnXIpnR1MkPqcCG6QM";
    public const string ToolsId = "cX8oaPqZLKGf1MkP-YOxmQ4";
    public const string ThinkingId = "dI8oaJnAEcKm1MkP4c7H8Qk";
    public const string ToolSignature = "CiQB0e2Kb7Zt/0o3ZyGKJ2EjP8bJcN5RT7uXGk4sd2A=";
    public const string TextSignature = "CmYB0e2Kb4u7oG8dVQxY1R3Q8d+gq3M0mWvD1nq9=";

    /// <summary>"Hello, world!" over three responses; the prompt mostly read from the cache; a little thinking.</summary>
    public static readonly string[] Text =
    [
        """{"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 1200,"totalTokenCount": 1200,"cachedContentTokenCount": 1024,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1200}]},"modelVersion": "gemini-2.5-flash","responseId": "Wm8oaLnXIpnR1MkPqcCG6QM"}""",
        """{"candidates": [{"content": {"parts": [{"text": ", wor"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 1200,"totalTokenCount": 1200,"cachedContentTokenCount": 1024,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1200}]},"modelVersion": "gemini-2.5-flash","responseId": "Wm8oaLnXIpnR1MkPqcCG6QM"}""",
        """{"candidates": [{"content": {"parts": [{"text": "ld!"}],"role": "model"},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 1200,"candidatesTokenCount": 4,"totalTokenCount": 1217,"cachedContentTokenCount": 1024,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1200}],"cacheTokensDetails": [{"modality": "TEXT","tokenCount": 1024}],"thoughtsTokenCount": 13},"modelVersion": "gemini-2.5-flash","responseId": "Wm8oaLnXIpnR1MkPqcCG6QM"}""",
    ];

    /// <summary>Text, then two function calls in one response (the first signed, the second with no args), STOP.</summary>
    public static readonly string[] Tools =
    [
        """{"candidates": [{"content": {"parts": [{"text": "Checking both."}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 87,"totalTokenCount": 87,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 87}]},"modelVersion": "gemini-2.5-flash","responseId": "cX8oaPqZLKGf1MkP-YOxmQ4"}""",
        """{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Oslo","unit": "celsius"}},"thoughtSignature": "CiQB0e2Kb7Zt/0o3ZyGKJ2EjP8bJcN5RT7uXGk4sd2A="},{"functionCall": {"name": "get_time"}}],"role": "model"},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 87,"candidatesTokenCount": 31,"totalTokenCount": 160,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 87}],"thoughtsTokenCount": 42},"modelVersion": "gemini-2.5-flash","responseId": "cX8oaPqZLKGf1MkP-YOxmQ4"}""",
    ];

    /// <summary>A thought summary (includeThoughts), then the answer whose last part carries the signature.</summary>
    public static readonly string[] Thinking =
    [
        """{"candidates": [{"content": {"parts": [{"text": "**Weighing the question**\n\nSix times seven.","thought": true}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 12,"totalTokenCount": 41,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 12}],"thoughtsTokenCount": 29},"modelVersion": "gemini-2.5-flash","responseId": "dI8oaJnAEcKm1MkP4c7H8Qk"}""",
        """{"candidates": [{"content": {"parts": [{"text": "The answer is 42."}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 12,"totalTokenCount": 41,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 12}],"thoughtsTokenCount": 29},"modelVersion": "gemini-2.5-flash","responseId": "dI8oaJnAEcKm1MkP4c7H8Qk"}""",
        """{"candidates": [{"content": {"parts": [{"text": "","thoughtSignature": "CmYB0e2Kb4u7oG8dVQxY1R3Q8d+gq3M0mWvD1nq9="}],"role": "model"},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": 6,"totalTokenCount": 47,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 12}],"thoughtsTokenCount": 29},"modelVersion": "gemini-2.5-flash","responseId": "dI8oaJnAEcKm1MkP4c7H8Qk"}""",
    ];

    /// <summary>Some text, then the candidate stopped by the safety filter (no content in the finishing response).</summary>
    public static readonly string[] Safety =
    [
        """{"candidates": [{"content": {"parts": [{"text": "Sure, the first step"}],"role": "model"}}],"usageMetadata": {"promptTokenCount": 15,"totalTokenCount": 15},"modelVersion": "gemini-2.5-flash","responseId": "sF8oaK2DMcOp1MkPzN2G0Ag"}""",
        """{"candidates": [{"finishReason": "SAFETY","safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT","probability": "HIGH","blocked": true},{"category": "HARM_CATEGORY_HARASSMENT","probability": "NEGLIGIBLE"}]}],"usageMetadata": {"promptTokenCount": 15,"candidatesTokenCount": 5,"totalTokenCount": 20},"modelVersion": "gemini-2.5-flash","responseId": "sF8oaK2DMcOp1MkPzN2G0Ag"}""",
    ];

    /// <summary>The prompt itself blocked: no candidates at all.</summary>
    public static readonly string[] PromptBlocked =
    [
        """{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "pB8oaM3VBqaT1MkPlbK1gQk"}""",
    ];

    public const string TextWhole =
        """{"candidates": [{"content": {"parts": [{"text": "Hello, world!"}],"role": "model"},"finishReason": "STOP","avgLogprobs": -0.21}],"usageMetadata": {"promptTokenCount": 1200,"candidatesTokenCount": 4,"totalTokenCount": 1217,"cachedContentTokenCount": 1024,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 1200}],"thoughtsTokenCount": 13},"modelVersion": "gemini-2.5-flash","responseId": "Wm8oaLnXIpnR1MkPqcCG6QM"}""";

    public const string ToolsWhole =
        """{"candidates": [{"content": {"parts": [{"text": "Checking both."},{"functionCall": {"name": "get_weather","args": {"city": "Oslo","unit": "celsius"}},"thoughtSignature": "CiQB0e2Kb7Zt/0o3ZyGKJ2EjP8bJcN5RT7uXGk4sd2A="},{"functionCall": {"name": "get_time","args": {}}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 87,"candidatesTokenCount": 31,"totalTokenCount": 160,"thoughtsTokenCount": 42},"modelVersion": "gemini-2.5-flash","responseId": "cX8oaPqZLKGf1MkP-YOxmQ4"}""";

    public const string ThinkingWhole =
        """{"candidates": [{"content": {"parts": [{"text": "**Weighing the question**\n\nSix times seven.","thought": true},{"text": "The answer is 42.","thoughtSignature": "CmYB0e2Kb4u7oG8dVQxY1R3Q8d+gq3M0mWvD1nq9="}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 12,"candidatesTokenCount": 6,"totalTokenCount": 47,"thoughtsTokenCount": 29},"modelVersion": "gemini-2.5-flash","responseId": "dI8oaJnAEcKm1MkP4c7H8Qk"}""";

    public const string SafetyWhole =
        """{"candidates": [{"finishReason": "SAFETY","index": 0,"safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT","probability": "HIGH","blocked": true}]}],"usageMetadata": {"promptTokenCount": 15,"totalTokenCount": 15},"modelVersion": "gemini-2.5-flash","responseId": "sF8oaK2DMcOp1MkPzN2G0Ag"}""";

    public const string PromptBlockedWhole =
        """{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "pB8oaM3VBqaT1MkPlbK1gQk"}""";

    /// <summary>The wire form: each response as one <c>data:</c> line, events ended by CRLF CRLF as Google's servers end them.</summary>
    public static string Wire(IEnumerable<string> responses) => string.Concat(responses.Select(r => "data: " + r + "\r\n\r\n"));
}
