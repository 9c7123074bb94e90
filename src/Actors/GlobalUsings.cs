global using Orchestrator.Messages;
