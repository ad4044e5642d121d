using Gateway.Auth;
using Gateway.Hosting;

if (KeysCommand.Matches(args))
{
    return KeysCommand.Run(args, Console.Out, Console.Error);
}

if (Gateway.Errors.RequestsCommand.Matches(args))
{
    return await Gateway.Errors.RequestsCommand.RunAsync(args, Console.Out, Console.Error);
}

if (ValidateConfigCommand.Matches(args))
{
    return await ValidateConfigCommand.RunAsync(args, Console.Out, Console.Error);
}

await GatewayApp.Create(args).RunAsync();
return 0;
