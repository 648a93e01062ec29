/** On a phone nothing is known: the user types the server's LAN or AWS address. */
export function defaultServer(): string {
  return '';
}
