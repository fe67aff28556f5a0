return await Workq.Cli.WorkqCli.RunAsync(args, Console.Out, Console.Error);
