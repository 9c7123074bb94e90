using Akka.Actor;

namespace Orchestrator.Actors;

/// <summary>
/// Makes an actor by calling a delegate, for the actors created per request (<c>Props.CreateBy(new
/// FactoryProducer&lt;X&gt;(() =&gt; new X(...)))</c>). <c>Props.Create(() =&gt; new X(...))</c> costs an expression
/// tree built at every call and a constructor invoked through reflection (Akka's ActivatorProducer); a delegate costs
/// neither. Such Props are local only: a delegate does not serialize, and no Props of ours leaves the process.
/// </summary>
public sealed class FactoryProducer<TActor>(Func<TActor> factory) : IIndirectActorProducer where TActor : ActorBase
{
    public Type ActorType => typeof(TActor);

    /// <summary>A fresh instance on every call, as Akka requires: a restart gets a new actor, never the crashed one.</summary>
    public ActorBase Produce() => factory();

    public void Release(ActorBase actor)
    {
        // Nothing is held here: the actor closes what it owns in its PostStop.
    }
}
