// Print env
// Values come from --env FILE|KEY=VALUE (or the wirehook.env setting).
console.log(JSON.stringify(env));
