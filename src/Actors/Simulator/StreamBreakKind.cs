namespace Orchestrator.Actors.Simulator;

/// <summary>How a faulted simulator stream ends after its last token.</summary>
public enum StreamBreakKind
{
    /// <summary><c>drop-after</c>: the stream fails as a reset connection would.</summary>
    Drop,
    /// <summary><c>eof-after</c>: the stream completes cleanly but without a finish reason or usage.</summary>
    Eof,
    /// <summary><c>stall-after</c>: nothing more arrives and the stream never ends until it is cancelled.</summary>
    Stall,
}
