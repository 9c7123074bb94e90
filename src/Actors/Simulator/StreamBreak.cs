namespace Orchestrator.Actors.Simulator;

/// <summary>A stream that breaks the <paramref name="Kind"/> way after <paramref name="AfterTokens"/> content tokens.</summary>
public sealed record StreamBreak(StreamBreakKind Kind, int AfterTokens)
{
    public string Key => Kind switch
    {
        StreamBreakKind.Drop => "drop-after",
        StreamBreakKind.Eof => "eof-after",
        _ => "stall-after",
    };
}
