using Relay.Server.Cli;

return await RelayCli.RunAsync(args);
