/** On a phone the library is read directly: there is nothing to pick. */
export function FilePicker() {
  return null;
}
