print("kitt")
