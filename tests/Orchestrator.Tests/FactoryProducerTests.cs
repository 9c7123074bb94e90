using Akka.Actor;
using Orchestrator.Actors;

namespace Orchestrator.Tests;

public sealed class FactoryProducerTests : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Answers "Count" with how many messages this instance has seen; "Crash" throws.</summary>
    private sealed class Counter(int generation) : UntypedActor
    {
        private int _seen;

        protected override void OnReceive(object message)
        {
            _seen++;
            if (message is "Crash") throw new InvalidOperationException("crash on request");
            Sender.Tell((generation, _seen));
        }
    }

    /// <summary>Restarts a child that throws, as a session's or an attempt's parent could.</summary>
    private sealed class Restarting(Props child, IActorRef probe) : ReceiveActor
    {
        private readonly IActorRef _child = Context.ActorOf(child, "counter");

        protected override void PreStart() => probe.Tell(_child);

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Restart);
    }

    [Fact]
    public async Task FactoryProducer_ActorRestarted_RunsTheFactoryAgainForAFreshInstance()
    {
        var made = 0;
        var props = Props.CreateBy(new FactoryProducer<Counter>(() => new Counter(Interlocked.Increment(ref made))));
        Assert.Equal(typeof(Counter), props.Type);
        Sys.ActorOf(Props.Create(() => new Restarting(props, TestActor)));
        var counter = await ExpectMsgAsync<IActorRef>();

        counter.Tell("Count");
        await ExpectMsgAsync((1, 1));
        counter.Tell("Count");
        await ExpectMsgAsync((1, 2));
        counter.Tell("Crash");
        counter.Tell("Count");   // handled after the restart

        await ExpectMsgAsync((2, 1));   // a new instance: the count starts over
        Assert.Equal(2, Volatile.Read(ref made));
    }

    [Fact]
    public async Task FactoryProducer_FactoryThrows_ActorFailsToStartAndStops()
    {
        var props = Props.CreateBy(new FactoryProducer<Counter>(() => throw new InvalidOperationException("no actor today")));
        var probe = CreateTestProbe();

        var counter = Sys.ActorOf(props);
        probe.Watch(counter);

        await probe.ExpectTerminatedAsync(counter);   // the guardian stops an actor that cannot be made
    }
}
