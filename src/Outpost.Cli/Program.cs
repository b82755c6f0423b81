using Outpost.Cli;

return await OutpostCommand.RunAsync(args, Console.Out, CancellationToken.None);
